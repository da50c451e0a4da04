// What the test central system answers, as one immutable value: boot answers, heartbeat interval, the tag store
// and the answers to the 1.6 security-extension calls. Parsed from untrusted JSON (CONFIG_FILE section
// `testCentralSystem`, REST bodies, test-case steps) with errors that name the field and what it wants.

export const BOOT_STATUSES = ['Accepted', 'Pending', 'Rejected'] as const;
export type BootStatus = (typeof BOOT_STATUSES)[number];
export const TAG_STATUSES = ['Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx'] as const;
export type TagStatus = (typeof TAG_STATUSES)[number];
/** Any tag status: on the bench, "every tag is Blocked" tests a board whose tag ids nobody has written down. */
export const UNKNOWN_TAG_ANSWERS = TAG_STATUSES;
export type UnknownTagAnswer = TagStatus;
export const SIGN_CERTIFICATE_ANSWERS = ['Accepted', 'Rejected'] as const;
export const DATA_TRANSFER_ANSWERS = ['Accepted', 'Rejected', 'UnknownVendorId', 'UnknownMessageId'] as const;

export interface TagEntry {
  readonly status: TagStatus;
  /** ISO 8601; an Accepted tag past this date is answered Expired. */
  readonly expiryDate?: string;
  readonly parentIdTag?: string;
}

export interface TestCsSettings {
  /** Answer to BootNotification; `intervalS` is the retry wait for Pending / Rejected (Accepted uses the heartbeat interval). */
  readonly boot: { readonly status: BootStatus; readonly intervalS: number };
  /** The interval an Accepted BootNotification gives the station. */
  readonly heartbeatIntervalS: number;
  /** Answer for tags that are not in the store (Accepted: today's permissive behaviour). */
  readonly unknownTags: UnknownTagAnswer;
  /** Keyed by idTag exactly as it appears on the wire. */
  readonly tags: ReadonlyMap<string, TagEntry>;
  /** The version a SendLocalList built from this store would carry. */
  readonly localListVersion: number;
  readonly signCertificate: (typeof SIGN_CERTIFICATE_ANSWERS)[number];
  readonly dataTransfer: (typeof DATA_TRANSFER_ANSWERS)[number];
}

/** The JSON form (file, REST): tags as an object keyed by idTag. */
export interface TestCsSettingsJson {
  readonly boot: { readonly status: BootStatus; readonly interval: number };
  readonly heartbeatInterval: number;
  readonly unknownTags: UnknownTagAnswer;
  readonly tags: Readonly<Record<string, TagEntry>>;
  readonly localListVersion: number;
  readonly signCertificate: TestCsSettings['signCertificate'];
  readonly dataTransfer: TestCsSettings['dataTransfer'];
}

export class TestCsSettingsError extends Error {
  override name = 'TestCsSettingsError';
  constructor(
    /** Dotted path of the offending field, e.g. `tags.ABC.status`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export function defaultSettings(heartbeatIntervalS = 300): TestCsSettings {
  return {
    boot: { status: 'Accepted', intervalS: 10 },
    heartbeatIntervalS,
    unknownTags: 'Accepted',
    tags: new Map(),
    localListVersion: 0,
    signCertificate: 'Accepted',
    dataTransfer: 'Accepted',
  };
}

export function settingsToJson(s: TestCsSettings): TestCsSettingsJson {
  const tags: Record<string, TagEntry> = {};
  // Object.defineProperty, not assignment: an idTag like "__proto__" must stay an ordinary key.
  for (const [id, t] of s.tags) Object.defineProperty(tags, id, { value: t, enumerable: true, writable: true, configurable: true });
  return {
    boot: { status: s.boot.status, interval: s.boot.intervalS },
    heartbeatInterval: s.heartbeatIntervalS,
    unknownTags: s.unknownTags,
    tags,
    localListVersion: s.localListVersion,
    signCertificate: s.signCertificate,
    dataTransfer: s.dataTransfer,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TestCsSettingsError(field, `${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TestCsSettingsError(field, `${field} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw new TestCsSettingsError(field, `${field} must be an object`);
  return value;
}

function only(obj: Record<string, unknown>, keys: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) throw new TestCsSettingsError(where ? `${where}.${k}` : k, `unknown field ${where ? `${where}.${k}` : k} (known: ${keys.join(', ')})`);
  }
}

/** idTag: CiString20Type. */
export function checkIdTag(idTag: string, field = 'idTag'): string {
  if (idTag.length === 0 || idTag.length > 20) throw new TestCsSettingsError(field, `${field} must be 1..20 characters (OCPP IdToken), got ${JSON.stringify(idTag)}`);
  return idTag;
}

/** One tag entry: `{ status, expiryDate?, parentIdTag? }`. */
export function parseTag(raw: unknown, field: string): TagEntry {
  const o = object(raw, field);
  only(o, ['status', 'expiryDate', 'parentIdTag'], field);
  const status = oneOf(o.status ?? 'Accepted', TAG_STATUSES, `${field}.status`);
  let expiryDate: string | undefined;
  if (o.expiryDate !== undefined) {
    if (typeof o.expiryDate !== 'string' || Number.isNaN(Date.parse(o.expiryDate))) {
      throw new TestCsSettingsError(`${field}.expiryDate`, `${field}.expiryDate must be an ISO 8601 date-time, got ${JSON.stringify(o.expiryDate)}`);
    }
    expiryDate = new Date(o.expiryDate).toISOString();
  }
  let parentIdTag: string | undefined;
  if (o.parentIdTag !== undefined) {
    if (typeof o.parentIdTag !== 'string') throw new TestCsSettingsError(`${field}.parentIdTag`, `${field}.parentIdTag must be a string`);
    parentIdTag = checkIdTag(o.parentIdTag, `${field}.parentIdTag`);
  }
  return { status, ...(expiryDate !== undefined ? { expiryDate } : {}), ...(parentIdTag !== undefined ? { parentIdTag } : {}) };
}

const TOP_KEYS = ['boot', 'heartbeatInterval', 'unknownTags', 'tags', 'localListVersion', 'signCertificate', 'dataTransfer'] as const;

/**
 * Applies a partial JSON settings object to `base`. Fields absent from `raw` keep their value; `tags` given as
 * an object adds or replaces those tags (a tag set to null is removed). Throws TestCsSettingsError.
 */
export function applySettings(base: TestCsSettings, raw: unknown, where = ''): TestCsSettings {
  const at = (f: string): string => (where ? `${where}.${f}` : f);
  if (!isObject(raw)) throw new TestCsSettingsError(where || '/', `${where || 'the test central system settings'} must be an object`);
  only(raw, TOP_KEYS, where);
  let boot = base.boot;
  if (raw.boot !== undefined) {
    const b = object(raw.boot, at('boot'));
    only(b, ['status', 'interval'], at('boot'));
    boot = {
      status: b.status === undefined ? boot.status : oneOf(b.status, BOOT_STATUSES, at('boot.status')),
      intervalS: b.interval === undefined ? boot.intervalS : integer(b.interval, at('boot.interval'), 1, 86_400),
    };
  }
  let tags = base.tags;
  if (raw.tags !== undefined) {
    const t = object(raw.tags, at('tags'));
    const next = new Map(tags);
    for (const [id, entry] of Object.entries(t)) {
      checkIdTag(id, `${at('tags')} key`);
      if (entry === null) next.delete(id);
      else next.set(id, parseTag(entry, `${at('tags')}.${id}`));
    }
    if (next.size > 10_000) throw new TestCsSettingsError(at('tags'), `${at('tags')} holds at most 10000 tags`);
    tags = next;
  }
  return {
    boot,
    heartbeatIntervalS: raw.heartbeatInterval === undefined ? base.heartbeatIntervalS : integer(raw.heartbeatInterval, at('heartbeatInterval'), 1, 86_400),
    unknownTags: raw.unknownTags === undefined ? base.unknownTags : oneOf(raw.unknownTags, UNKNOWN_TAG_ANSWERS, at('unknownTags')),
    tags,
    localListVersion: raw.localListVersion === undefined ? base.localListVersion : integer(raw.localListVersion, at('localListVersion'), 0, 2 ** 31 - 1),
    signCertificate: raw.signCertificate === undefined ? base.signCertificate : oneOf(raw.signCertificate, SIGN_CERTIFICATE_ANSWERS, at('signCertificate')),
    dataTransfer: raw.dataTransfer === undefined ? base.dataTransfer : oneOf(raw.dataTransfer, DATA_TRANSFER_ANSWERS, at('dataTransfer')),
  };
}
