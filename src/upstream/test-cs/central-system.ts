// The test central system's live state: the current settings (replaced whole, so a reader never sees half an
// update) and the tag look-up the answers use. One instance per gateway, shared by every station's upstream;
// a test run changes the answers for its own station only (an override), so other stations go on as before.
import { applySettings, checkIdTag, parseTag, type TagEntry, type TestCsSettings } from './settings.js';

export type IdTagInfo = { readonly status: TagEntry['status']; readonly expiryDate?: string; readonly parentIdTag?: string };

export class TestCentralSystem {
  #settings: TestCsSettings;
  /** Per-station settings set by test runs, keyed by chargeBoxId. */
  readonly #overrides = new Map<string, TestCsSettings>();

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

  /** What one station is answered from: its override, or the shared settings. */
  settingsFor(chargeBoxId: string): TestCsSettings {
    return this.#overrides.get(chargeBoxId) ?? this.#settings;
  }

  /** The override of one station, if a test run set one. */
  overrideOf(chargeBoxId: string): TestCsSettings | undefined {
    return this.#overrides.get(chargeBoxId);
  }

  get overrides(): ReadonlyMap<string, TestCsSettings> {
    return this.#overrides;
  }

  /** Merges `raw` into what one station is answered from (test-case steps). Throws TestCsSettingsError. */
  updateFor(chargeBoxId: string, raw: unknown, where = ''): TestCsSettings {
    const next = applySettings(this.settingsFor(chargeBoxId), raw, where);
    this.#overrides.set(chargeBoxId, next);
    return next;
  }

  /** Puts a station's override back as it was (undefined: none) at the end of a test case. */
  restoreFor(chargeBoxId: string, override: TestCsSettings | undefined): void {
    if (override) this.#overrides.set(chargeBoxId, override);
    else this.#overrides.delete(chargeBoxId);
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

  /** What Authorize / StartTransaction / StopTransaction answer a station for this tag at `now` (ms since the epoch). */
  idTagInfo(chargeBoxId: string, idTag: string, now: number): IdTagInfo {
    const settings = this.settingsFor(chargeBoxId);
    const entry = settings.tags.get(idTag);
    if (!entry) return { status: settings.unknownTags };
    const expired = entry.expiryDate !== undefined && Date.parse(entry.expiryDate) <= now;
    const status = entry.status === 'Accepted' && expired ? 'Expired' : entry.status;
    return {
      status,
      ...(entry.expiryDate !== undefined ? { expiryDate: entry.expiryDate } : {}),
      ...(entry.parentIdTag !== undefined ? { parentIdTag: entry.parentIdTag } : {}),
    };
  }
}
