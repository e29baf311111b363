/** The do-not-text list screen's state: the list, adding, removing, importing and exporting. */
import type { Backend } from "../backend/backend";
import type { DntImportResult } from "../backend/bindings/DntImportResult";
import type { DntNumber } from "../backend/bindings/DntNumber";
import { toIpcError } from "../backend/errors";
import { MAX_IMPORT_BYTES, decodeCsv } from "./dnt";

/** What the import needs of a picked file (a `File` has it). */
export type PickedFile = { name: string; size: number; arrayBuffer(): Promise<ArrayBuffer> };

export class DntStore {
  list = $state<DntNumber[]>([]);
  loading = $state(false);
  /** Loading the list failed. */
  error = $state<string | null>(null);
  busy = $state(false);
  addError = $state<string | null>(null);
  removeError = $state<string | null>(null);
  importError = $state<string | null>(null);
  lastImport = $state<{ file: string; result: DntImportResult } | null>(null);
  /** A line for the screen reader and the eye after each change. */
  notice = $state<string | null>(null);
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.list = await this.#backend.dntList();
    } catch (e) {
      this.error = toIpcError(e).message;
    } finally {
      this.loading = false;
    }
  }

  async add(phone: string): Promise<boolean> {
    this.addError = null;
    this.notice = null;
    if (!phone.trim()) {
      this.addError = "Type the number to add.";
      return false;
    }
    this.busy = true;
    try {
      const added = await this.#backend.dntAdd(phone);
      this.notice = `${added.phone} is on the do-not-text list.`;
      await this.load();
      return true;
    } catch (e) {
      this.addError = toIpcError(e).message.replace(/^phone: /, "");
      return false;
    } finally {
      this.busy = false;
    }
  }

  async remove(phone: string, reason: string): Promise<boolean> {
    this.removeError = null;
    this.notice = null;
    this.busy = true;
    try {
      await this.#backend.dntRemove(phone, reason.trim() || null);
      this.notice = `${phone} was taken off the list and can be texted again.`;
      await this.load();
      return true;
    } catch (e) {
      this.removeError = toIpcError(e).message;
      return false;
    } finally {
      this.busy = false;
    }
  }

  async importFile(file: PickedFile): Promise<boolean> {
    this.importError = null;
    this.lastImport = null;
    this.notice = null;
    if (file.size > MAX_IMPORT_BYTES) {
      this.importError = `${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; the most one import takes is 5 MB. Split it into smaller files.`;
      return false;
    }
    this.busy = true;
    try {
      const csv = decodeCsv(new Uint8Array(await file.arrayBuffer()));
      const result = await this.#backend.dntImport(csv);
      this.lastImport = { file: file.name, result };
      await this.load();
      return true;
    } catch (e) {
      this.importError = toIpcError(e).message.replace(/^csv: /, "");
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** The list as CSV text, or null (with `error` set) if it could not be made. */
  async exportCsv(): Promise<string | null> {
    try {
      return await this.#backend.dntExport();
    } catch (e) {
      this.error = toIpcError(e).message;
      return null;
    }
  }
}
