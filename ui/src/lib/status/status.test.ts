import { describe, expect, it } from "vitest";
import type { AppStatus } from "../backend/bindings/AppStatus";
import { createFakeBackend } from "../backend/fake";
import { offlineText, StatusStore } from "./status.svelte";

const base: AppStatus = {
  mode: "live", businessName: "R", online: false, offlineSince: "2025-03-03T10:42:00Z", pendingOutbox: 2,
  providerProblem: null, storageProblem: null, responders: [], version: "1",
};

describe("status", () => {
  it("words the offline banner with the time and the outbox count", () => {
    expect(offlineText(base, () => "10:42")).toBe("Offline since 10:42 — 2 replies waiting to send");
    expect(offlineText({ ...base, pendingOutbox: 1 }, () => "10:42")).toBe("Offline since 10:42 — 1 reply waiting to send");
    expect(offlineText({ ...base, pendingOutbox: 0 }, () => "10:42")).toMatch(/^Offline since 10:42\. /);
  });

  it("refreshes on events, so going offline shows without a reload", async () => {
    const b = createFakeBackend();
    const store = new StatusStore(b);
    await store.refresh();
    expect(store.status?.online).toBe(true);
    const done = new Promise<void>((resolve) => {
      void b.onEvents((events) => void store.applyEvents(events).then(resolve));
    });
    b.setOnline(false);
    await done;
    expect(store.status?.online).toBe(false);
    b.dispose();
  });

  it("lists responders that are not running", async () => {
    const b = createFakeBackend({ scenario: "no-responder" });
    const store = new StatusStore(b);
    await store.refresh();
    expect(store.idleResponders.map((r) => r.number)).toEqual(["+15125550123"]);
    b.setResponderRunning("+15125550123", true);
    await store.refresh();
    expect(store.idleResponders).toEqual([]);
    b.dispose();
  });
});
