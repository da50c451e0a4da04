// The test central system's live state: the current settings (replaced whole, so a reader never sees half an
// update) and the tag look-up the answers use. One instance per gateway, shared by every station's upstream.
import { applySettings, checkIdTag, parseTag, type TagEntry, type TestCsSettings } from './settings.js';

export type IdTagInfo = { readonly status: TagEntry['status']; readonly expiryDate?: string; readonly parentIdTag?: string };

export class TestCentralSystem {
  #settings: TestCsSettings;

  /** `defaults`: what PUT starts from (built-in defaults plus the CONFIG_FILE section). */
  constructor(private readonly defaults: TestCsSettings) {
    this.#settings = defaults;
  }

  get settings(): TestCsSettings {
    return this.#settings;
  }

  /** PUT: the configured defaults with `raw` applied. Throws TestCsSettingsError and then changes nothing. */
  replace(raw: unknown): TestCsSettings {
    this.#settings = applySettings(this.defaults, raw);
    return this.#settings;
  }

  /** Merges `raw` into the current settings (test-case steps). */
  update(raw: unknown, where = ''): TestCsSettings {
    this.#settings = applySettings(this.#settings, raw, where);
    return this.#settings;
  }

  /** Puts back a value taken from `settings` earlier (end of a test case). */
  restore(settings: TestCsSettings): void {
    this.#settings = settings;
  }

  setTag(idTag: string, raw: unknown): TagEntry {
    checkIdTag(idTag);
    const entry = parseTag(raw, `tags.${idTag}`);
    const tags = new Map(this.#settings.tags);
    tags.set(idTag, entry);
    this.#settings = { ...this.#settings, tags };
    return entry;
  }

  removeTag(idTag: string): boolean {
    if (!this.#settings.tags.has(idTag)) return false;
    const tags = new Map(this.#settings.tags);
    tags.delete(idTag);
    this.#settings = { ...this.#settings, tags };
    return true;
  }

  /** What Authorize / StartTransaction / StopTransaction answer for this tag at `now` (ms since the epoch). */
  idTagInfo(idTag: string, now: number): IdTagInfo {
    const entry = this.#settings.tags.get(idTag);
    if (!entry) return { status: this.#settings.unknownTags };
    const expired = entry.expiryDate !== undefined && Date.parse(entry.expiryDate) <= now;
    const status = entry.status === 'Accepted' && expired ? 'Expired' : entry.status;
    return {
      status,
      ...(entry.expiryDate !== undefined ? { expiryDate: entry.expiryDate } : {}),
      ...(entry.parentIdTag !== undefined ? { parentIdTag: entry.parentIdTag } : {}),
    };
  }
}
