/** Connecting a phone provider (Twilio): verify credentials, pick numbers, choose the responder. */
import type { Backend, ProviderCredentials } from "../backend/backend";
import { toIpcError } from "../backend/errors";

export class ConnectStore {
  step = $state<"credentials" | "numbers" | "done">("credentials");
  method = $state<"token" | "apiKey">("token");
  accountSid = $state("");
  authToken = $state("");
  apiKeySid = $state("");
  apiKeySecret = $state("");
  numbers = $state<string[]>([]);
  chosen = $state<string[]>([]);
  responder = $state(true);
  busy = $state(false);
  error = $state<string | null>(null);
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  credentials(): ProviderCredentials {
    const accountSid = this.accountSid.trim();
    return this.method === "token"
      ? { accountSid, authToken: this.authToken.trim() }
      : { accountSid, apiKeySid: this.apiKeySid.trim(), apiKeySecret: this.apiKeySecret.trim() };
  }

  async verify(): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      const r = await this.#backend.providerConnect(this.credentials());
      this.numbers = r.numbers;
      this.chosen = [...r.numbers];
      this.step = "numbers";
      return true;
    } catch (e) {
      const err = toIpcError(e);
      this.error =
        err.code === "auth"
          ? `Twilio did not accept these credentials. Copy them again from the Twilio Console (Account → API keys & tokens). ${err.message}`
          : err.message;
      return false;
    } finally {
      this.busy = false;
    }
  }

  async finish(): Promise<boolean> {
    if (this.chosen.length === 0) {
      this.error = "Pick at least one number for Textback to watch.";
      return false;
    }
    this.busy = true;
    this.error = null;
    try {
      await this.#backend.providerFinishConnect($state.snapshot(this.chosen), this.responder);
      this.step = "done";
      this.authToken = "";
      this.apiKeySecret = "";
      return true;
    } catch (e) {
      this.error = toIpcError(e).message;
      return false;
    } finally {
      this.busy = false;
    }
  }
}
