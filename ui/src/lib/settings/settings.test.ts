import { afterEach, describe, expect, it, vi } from "vitest";
import { createFakeBackend, type FakeBackend } from "../backend/fake";
import { ConnectStore } from "./connect.svelte";
import { envVarFor, fieldFromError, SettingsStore } from "./settings.svelte";

let fake: FakeBackend | null = null;
afterEach(() => {
  fake?.dispose();
  fake = null;
});

describe("settings errors are pinned to the field they name", () => {
  it("reads the field from the message's lead, in camelCase or snake_case", () => {
    expect(fieldFromError("hours.mon: use 08:00-17:00")).toBe("hours");
    expect(fieldFromError("template_after_hours: unknown placeholder {x}")).toBe("templateAfterHours");
    expect(fieldFromError("dedupeWindow: must be a duration")).toBe("dedupeWindow");
  });

  it("falls back to a field named anywhere in the message, else none", () => {
    expect(fieldFromError("invalid value for booking_link (not https)")).toBe("bookingLink");
    expect(fieldFromError("disk full")).toBeNull();
  });

  it("names the environment variable that locks a field", () => {
    expect(envVarFor("pollInterval")).toBe("TEXTBACK_POLL_INTERVAL");
    expect(envVarFor("templateBusinessHours")).toBe("TEXTBACK_TEMPLATE_BUSINESS_HOURS");
  });

  it("a rejected save keeps the draft and shows the error on that field only", async () => {
    const b = (fake = createFakeBackend());
    const store = new SettingsStore(b);
    await store.load();
    expect(store.locked("pollInterval")).toBe(true);
    expect(store.locked("businessName")).toBe(false);
    if (!store.draft) throw new Error("settings did not load");
    store.draft.templateAfterHours = "Call {nobody}";
    expect(store.dirty).toBe(true);
    expect(await store.save()).toBe(false);
    expect(Object.keys(store.fieldErrors)).toEqual(["templateAfterHours"]);
    expect(store.fieldErrors.templateAfterHours).toMatch(/\{nobody\}/);
    expect(store.error).toBeNull();
    expect(store.draft.templateAfterHours).toBe("Call {nobody}");

    store.draft.templateAfterHours = "Closed now, {business} will call back";
    expect(await store.save()).toBe(true);
    expect(store.fieldErrors).toEqual({});
    expect(store.dirty).toBe(false);
    expect(store.saved?.templateAfterHours).toBe("Closed now, {business} will call back");
  });

  it("an error naming no field is shown for the whole form", async () => {
    const b = (fake = createFakeBackend());
    vi.spyOn(b, "settingsSave").mockRejectedValueOnce({ code: "internal", message: "config file is read-only" });
    const store = new SettingsStore(b);
    await store.load();
    expect(await store.save()).toBe(false);
    expect(store.error).toBe("config file is read-only");
    expect(store.fieldErrors).toEqual({});
  });
});

describe("ConnectStore", () => {
  it("explains wrong credentials clearly and stays on the credentials step", async () => {
    const b = (fake = createFakeBackend());
    const store = new ConnectStore(b);
    store.accountSid = "AC" + "1".repeat(32);
    store.authToken = "not-a-token";
    expect(await store.verify()).toBe(false);
    expect(store.step).toBe("credentials");
    expect(store.error).toMatch(/^Twilio did not accept these credentials/);
  });

  it("verifies with an API key, picks numbers and makes this desk the responder", async () => {
    const b = (fake = createFakeBackend());
    const spy = vi.spyOn(b, "providerConnect");
    const store = new ConnectStore(b);
    store.method = "apiKey";
    store.accountSid = " AC" + "2".repeat(32) + " ";
    store.apiKeySid = "SK" + "3".repeat(32);
    store.apiKeySecret = "s".repeat(32);
    expect(await store.verify()).toBe(true);
    expect(spy).toHaveBeenCalledWith({ accountSid: "AC" + "2".repeat(32), apiKeySid: "SK" + "3".repeat(32), apiKeySecret: "s".repeat(32) });
    expect(store.step).toBe("numbers");
    store.chosen = store.numbers.slice(0, 1);
    expect(await store.finish()).toBe(true);
    expect(store.apiKeySecret).toBe("");
    const status = await b.appStatus();
    expect(status.mode).toBe("live");
    expect(status.responders).toEqual([{ number: store.numbers[0], thisDesk: true, running: true }]);
  });
});
