// Column values as they come out of the binlog decoder (TIMESTAMPs as Date objects, db.ts binlogOptions) and the
// reader's SQL queries (strings in UTC), turned into event fields.

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Undo SteVe's HTML encoding of stored strings (OWASP forHtml: &#34; &#39; &amp; &lt; &gt;), in one pass. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,5});/g, (whole, body: string) => {
    if (body.startsWith('#x') || body.startsWith('#X')) return fromCodePoint(Number.parseInt(body.slice(2), 16), whole);
    if (body.startsWith('#')) return fromCodePoint(Number.parseInt(body.slice(1), 10), whole);
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

function fromCodePoint(cp: number, fallback: string): string {
  return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : fallback;
}

/** A string column, HTML entities decoded; undefined for NULL. */
export function text(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return decodeEntities(v);
  if (Buffer.isBuffer(v)) return decodeEntities(v.toString('utf8'));
  return String(v);
}

/** A string column that must be there; '' when NULL. */
export function textOr(v: unknown, fallback: string): string {
  return text(v) ?? fallback;
}

export function int(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Meter readings are stored as strings (start_value, stop_value, value). */
export function meter(v: unknown): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = Number(typeof v === 'string' ? v.trim() : v);
  return typeof v === 'string' && v.trim() === '' ? undefined : Number.isFinite(n) ? n : undefined;
}

const SQL_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?$/;
const SQL_TIME_26 = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/;

/**
 * A TIMESTAMP/DATETIME value as ISO 8601 UTC with milliseconds (SteVe stores milliseconds).
 * The binlog hands out Date objects, queries "YYYY-MM-DD HH:MM:SS.ffffff" strings in UTC; zero dates and NULL give
 * undefined.
 */
export function isoTime(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  // The binlog's TIMESTAMPs (db.ts binlogOptions); the zero TIMESTAMP comes as the epoch, which no real
  // TIMESTAMP holds (their range starts a second after it).
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) || t === 0 ? undefined : isoOfMs(t);
  }
  if (typeof v === 'number') return new Date(v * 1000).toISOString();
  // A query's usual shape, "YYYY-MM-DD HH:MM:SS.ffffff", is sliced rather than captured.
  if (typeof v === 'string' && SQL_TIME_26.test(v)) {
    return v.startsWith('0000-00-00') ? undefined : `${v.slice(0, 10)}T${v.slice(11, 23)}Z`;
  }
  const m = SQL_TIME.exec(String(v));
  if (!m) return undefined;
  if (m[1] === '0000-00-00') return undefined;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  return `${m[1]}T${m[2]}.${ms}Z`;
}

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** Milliseconds of the year 10000: from there `toISOString` writes a six-digit year. */
const YEAR_10000 = 253_402_300_800_000;
let minuteStart = Number.NaN;
let minutePrefix = '';

/**
 * `new Date(t).toISOString()`, built from the minute's text kept between calls: `toISOString` cost about 1 µs, as
 * much as the library's whole decoding of a meter row, and a binlog's timestamps mostly share their minute with the
 * value before.
 */
export function isoOfMs(t: number): string {
  if (!(t >= 0 && t < YEAR_10000)) return new Date(t).toISOString();
  let offset = t - minuteStart;
  if (!(offset >= 0 && offset < 60_000)) {
    minuteStart = t - (t % 60_000);
    minutePrefix = new Date(minuteStart).toISOString().slice(0, 17); // "YYYY-MM-DDTHH:MM:"
    offset = t - minuteStart;
  }
  const ms = offset % 1000;
  return `${minutePrefix}${PAD2[(offset - ms) / 1000]!}.${PAD3[ms]!}Z`;
}

/** Parse a DataTransfer payload: entity-decoded, JSON when it is JSON, else the decoded string. */
export function parseData(v: unknown): unknown {
  const s = text(v);
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t.startsWith('{') || t.startsWith('[') || t.startsWith('"')) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return s;
    }
  }
  return s;
}
