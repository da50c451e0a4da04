// Reading vendor DataTransfer text: SteVe's HTML encoding, JSON in a string (sometimes twice), and a size bound.
// Pure functions shared by the wire extractor and the binlog path, so the same bytes always give the same event.
import { MAX_FRAME_DEPTH } from '../ocpp/frames.js';
import { clip, nestingExceeds } from '../ocpp/wire-text.js';
import { exceedsDepth, MAX_SAFE_DEPTH, truncateUtf8, tryStringify } from './json-safety.js';

/** Default of EVENTS_DATA_MAX_BYTES. */
export const DEFAULT_MAX_DATA_BYTES = 8 * 1024;

export interface VendorFinding {
  readonly rule: string;
  readonly field?: string;
  readonly message: string;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", nbsp: '\u00a0',
};

/**
 * SteVe HTML-encodes every JSON string it receives (OWASP Encode.forHtml), so stored DataTransfer data reads
 * `{&#34;soc&#34;:42}`. Decodes named, decimal and hex entities in one pass (no double decoding).
 */
export function decodeHtmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,6});/g, (whole, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

type Parsed = { readonly ok: true; readonly value: Record<string, unknown> } | { readonly ok: false; readonly message: string };

/** DataTransfer.data is a JSON string per OCPP 1.6; some senders put an object there. */
export function parseVendorData(data: unknown): Parsed {
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) return { ok: true, value: data as Record<string, unknown> };
  if (typeof data !== 'string') return { ok: false, message: `data must be a JSON object or a string holding one, got ${data === null ? 'null' : Array.isArray(data) ? 'array' : typeof data}` };
  const text = decodeHtmlEntities(data).trim();
  // The frame's depth was checked, but this string is a second document: check it before anything recurses over it.
  if (nestingExceeds(text, MAX_FRAME_DEPTH)) return { ok: false, message: `data JSON is nested deeper than ${MAX_FRAME_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `data is not JSON: ${clip((err as Error).message, 120)}` };
  }
  // A string holding a JSON string holding the object (double encoding) is seen in the field; unwrap once.
  if (typeof value === 'string') return parseVendorData(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'data JSON is not an object' };
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * Data as it may be kept in an event: as sent when its JSON fits in `maxBytes`, else its JSON text cut short, with
 * its full size in `dataBytes` and a finding. Too deep to serialise safely counts as too large.
 */
export function bounded(data: unknown, maxBytes: number, findings: VendorFinding[]): { data: unknown; dataBytes?: number } {
  if (typeof data === 'string' && data.length * 3 <= maxBytes) return { data };
  const text = typeof data === 'string' ? data : exceedsDepth(data, MAX_SAFE_DEPTH - 4) ? undefined : tryStringify(data);
  const bytes = text === undefined ? undefined : Buffer.byteLength(text);
  if (bytes !== undefined && bytes <= maxBytes) return { data };
  findings.push({
    rule: 'event.data-truncated',
    field: 'data',
    message:
      text === undefined
        ? `data nests too deep to keep: dropped (see the message log for the frame)`
        : `data of ${bytes} bytes is longer than EVENTS_DATA_MAX_BYTES (${maxBytes}): the event keeps its first ${maxBytes} bytes`,
  });
  return { data: text === undefined ? '' : truncateUtf8(text, maxBytes), dataBytes: bytes ?? -1 };
}

/** Other vendors' data is kept as sent, minus SteVe's HTML encoding. */
export function decodeData(data: unknown): unknown {
  return typeof data === 'string' ? decodeHtmlEntities(data) : data;
}
