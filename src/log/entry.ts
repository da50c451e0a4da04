// Turns a frame observation into a log entry (id, time, payload, findings) and an entry into one JSON line and back.
// Runs in the log's batch, never inside the bus listener.
import { parseFrame, type Frame, type FrameProblemKind, type ParseResult } from '../ocpp/frames.js';
import { MAX_VALIDATED_CHARS, validate } from '../ocpp/validate.js';
import type { Mutable } from '../events/catalogue.js';
import type { Finding, FrameObservation, LogEntry } from '../events/observations.js';
import { exceedsDepth, MAX_SAFE_DEPTH, truncateUtf8, tryStringify } from '../events/json-safety.js';
import { isoMicros } from './time.js';

/**
 * Default of MESSAGE_LOG_MAX_RAW_BYTES: frames larger than this keep only their first part in the log. 64 KiB is far
 * above any real OCPP frame (LARGE_MESSAGE_BYTES), and the relay need not turn a larger frame it forwards as bytes
 * into text at all (relay.ts, #head): on a machine where fresh memory costs 3 ms per MiB, that text cost every
 * other station's frames the wait.
 */
export const DEFAULT_MAX_RAW_BYTES = 64 * 1024;

const TOO_DEEP: Finding = Object.freeze({
  rule: 'frame.too-deep',
  message: `the payload nests deeper than ${MAX_SAFE_DEPTH} levels: the log keeps it as raw text only`,
});

/** The payload a frame carries; a CALLERROR's is its code, description and details. */
function payloadOf(frame: Frame): unknown {
  if (frame.type === 4) return { code: frame.code, description: frame.description, details: frame.details };
  return frame.payload;
}

/** The parse result of a frame the relay refused for `kind` (findingsOf words its finding from `obs.problem`). */
function refused(kind: FrameProblemKind): ParseResult {
  return { ok: false, problem: { kind, message: kind, isCall: false } };
}

/** Shared by every clean entry: most frames have no findings, and one array each would be garbage. */
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

function findingsOf(obs: FrameObservation, parsed: ParseResult, deep: boolean): readonly Finding[] {
  if (!parsed.ok) return [{ rule: `frame.${parsed.problem.kind}`, message: obs.problem ?? parsed.problem.message }];
  const { frame } = parsed;
  // A result can be checked only when the relay paired it with its CALL and so knows the action.
  // A too-deep payload is not walked by the validator at all; a very large one is not checked (it costs as much as
  // parsing it again).
  const checkable = !deep && (frame.type === 2 || (frame.type === 3 && obs.action !== undefined));
  const skipped = checkable && obs.raw.length > MAX_VALIDATED_CHARS;
  const violation =
    !checkable || skipped ? null : frame.type === 2 ? validate(frame.action, 'req', frame.payload) : frame.type === 3 ? validate(obs.action ?? '', 'conf', frame.payload) : null;
  const refusal = refusalOf(obs);
  if (refusal === undefined && !violation && !skipped && !deep) return NO_FINDINGS;
  const findings: Finding[] = [];
  if (refusal !== undefined) findings.push({ rule: 'frame.refused', message: refusal });
  if (deep) findings.push(TOO_DEEP);
  if (violation) findings.push({ rule: `schema.${violation.rule}`, field: violation.field, message: violation.message });
  if (skipped) findings.push({ rule: 'schema.skipped', message: `not checked against the schema: ${obs.raw.length} characters is over ${MAX_VALIDATED_CHARS}` });
  return findings;
}

/**
 * Why the frame was refused. An injected frame's problem says what a fault rule did to it: a note, not a finding about
 * the station. So is a mirror frame's (what the gateway did with it).
 */
function refusalOf(obs: FrameObservation): string | undefined {
  return obs.disposition === 'injected' || obs.disposition === 'mirror' ? undefined : obs.problem;
}

/** The findings of a frame kept only in part: why it was refused, if it was (its payload is not there to check). */
function partFindings(obs: FrameObservation): readonly Finding[] {
  const refusal = refusalOf(obs);
  return refusal === undefined ? NO_FINDINGS : [{ rule: 'frame.refused', message: refusal }];
}

/** Byte length of the raw text when it is over `maxBytes`; undefined when it fits (the usual case, decided cheaply). */
function oversize(raw: string, maxBytes: number): number | undefined {
  if (raw.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(raw);
  return bytes > maxBytes ? bytes : undefined;
}

/**
 * The entry for one observation. A payload nested deeper than MAX_SAFE_DEPTH is not kept as a value (finding
 * frame.too-deep), and a frame over `maxRawBytes` keeps only its first part in `raw` (finding frame.too-large,
 * `rawBytes` = its size) and no payload: what the bus's observers hold is bounded like what the files hold.
 */
export function toLogEntry(obs: FrameObservation, id: number, maxRawBytes: number = DEFAULT_MAX_RAW_BYTES): LogEntry {
  // The relay's parse when it made one; the text otherwise (refused frames, observations from elsewhere). None when
  // only the first part of a large frame came (the relay forwarded its bytes): nothing to parse or check.
  // A frame the relay refused for its parse is not parsed again: its problem came from the whole text.
  const parsed: ParseResult | undefined =
    obs.rawBytes !== undefined ? undefined : obs.frame ? { ok: true, frame: obs.frame } : obs.problemKind !== undefined ? refused(obs.problemKind) : parseFrame(obs.raw);
  const payload = parsed?.ok ? payloadOf(parsed.frame) : undefined;
  const deep = exceedsDepth(payload);
  const rawBytes = obs.rawBytes ?? oversize(obs.raw, maxRawBytes);
  let findings = parsed ? findingsOf(obs, parsed, deep) : partFindings(obs);
  if (rawBytes !== undefined) {
    findings = [...findings, { rule: 'frame.too-large', message: `a frame of ${rawBytes} bytes: the log keeps its first ${maxRawBytes} (MESSAGE_LOG_MAX_RAW_BYTES)` }];
  }
  // Field by field, not spread: this runs once per frame, and the parsed frame stays out of the entry.
  // id and time lead each line so the day files read well in a pager.
  const entry: Mutable<LogEntry> = {
    id,
    time: isoMicros(obs.atUs),
    atUs: obs.atUs,
    chargeBoxId: obs.chargeBoxId,
    linkKind: obs.linkKind,
    leg: obs.leg,
    direction: obs.direction,
    origin: obs.origin,
    disposition: obs.disposition,
    raw: rawBytes === undefined ? obs.raw : truncateUtf8(obs.raw, maxRawBytes),
    findings,
  };
  if (obs.messageType !== undefined) entry.messageType = obs.messageType;
  if (obs.action !== undefined) entry.action = obs.action;
  if (obs.messageId !== undefined) entry.messageId = obs.messageId;
  if (obs.forwardUs !== undefined) entry.forwardUs = obs.forwardUs;
  if (obs.rttMs !== undefined) entry.rttMs = obs.rttMs;
  if (obs.problem !== undefined) entry.problem = obs.problem;
  if (obs.fault !== undefined) entry.fault = obs.fault;
  if (obs.mirror !== undefined) entry.mirror = obs.mirror;
  if (rawBytes !== undefined) entry.rawBytes = rawBytes;
  if (parsed?.ok === true && !deep && rawBytes === undefined) entry.payload = payload;
  return entry;
}

/**
 * One line of a day file, in parts the writer puts together (store.ts), so that a frame's text is never escaped or
 * copied into a string of its own on the heap: escaping it in JSON.stringify was the message log's largest
 * allocation under the fuzz bench (BENCHMARKS.md, "The frame's text written as it came"). `head` is the entry's
 * other fields as JSON; the writer replaces its closing brace by
 * - `frame`: `,"frame":<text>}` with the text as it came, when it is JSON (the entry has a payload) on one line;
 * - `raw`: `,"raw":"<text escaped>"}`, escaped into the write buffer (json-string.ts), for any other text;
 * - `whole`: nothing, `head` being the line (text that UTF-8 cannot carry as it is: a lone surrogate).
 * Every line is one JSON value. The payload is not stored: it is derived from the text again on read, which keeps
 * files a third smaller.
 */
export type EncodedLine = { readonly kind: 'whole'; readonly head: string } | { readonly kind: 'frame' | 'raw'; readonly head: string; readonly text: string };

/** What joins a line's head to its frame's text; a head cannot contain it (its strings escape every quote). */
export const FRAME_MARK = ',"frame":';

/**
 * What the writer puts between a line's head and its frame's text: the text's length in UTF-16 code units, which
 * tells a line torn by a crash from a whole one on read, then FRAME_MARK.
 */
export function frameMark(text: string): string {
  return `,"rawLength":${text.length}${FRAME_MARK}`;
}
/** What joins a line's head to its escaped text (followed by the text and `"}`). */
export const RAW_MARK = ',"raw":"';

export function encodeLine(entry: LogEntry): EncodedLine {
  const { raw } = entry;
  // Text with a lone surrogate: JSON.stringify escapes it, UTF-8 cannot carry it. Never from a socket (decoded
  // text is well formed); a frame the gateway composed could hold one.
  if (!raw.isWellFormed()) return { kind: 'whole', head: JSON.stringify(entry.payload === undefined ? entry : { ...entry, payload: undefined }) };
  // JSON leaves out undefined members: a spread copy (V8's fast clone) instead of a rest pattern, which cost more
  // than the stringify itself in the relay bench's profile.
  // The same clone for both kinds: one more member on it (the text's length) took JSON.stringify off its fast
  // path, three times the cost; the writer adds it instead (frameMark).
  const head = JSON.stringify({ ...entry, payload: undefined, raw: undefined });
  return { kind: entry.payload !== undefined && raw.indexOf('\n') === -1 ? 'frame' : 'raw', head, text: raw };
}

/** A line as text, newline left out: what the store writes for `encoded` (tests, benches; the store writes bytes). */
export function lineText(encoded: EncodedLine): string {
  if (encoded.kind === 'whole') return encoded.head;
  const open = encoded.head.slice(0, -1);
  return encoded.kind === 'frame' ? `${open}${frameMark(encoded.text)}${encoded.text}}` : `${open},"raw":${JSON.stringify(encoded.text)}}`;
}

/** The stored fields of a line, `raw` included, whichever way it was written; throws on a line that is not one. */
export function storedOf(line: string): LogEntry {
  const at = line.indexOf(FRAME_MARK);
  if (at === -1) return JSON.parse(line) as LogEntry;
  const { rawLength, ...head } = JSON.parse(`${line.slice(0, at)}}`) as LogEntry & { rawLength?: unknown };
  const raw = line.slice(at + FRAME_MARK.length, -1);
  // A torn line (a crash mid-write) can still end in a brace: its text's length tells.
  if (raw.length !== rawLength || line.at(-1) !== '}') throw new TypeError('a torn line');
  return { ...head, raw };
}

/**
 * Reverses encodeLine (without the newline). Throws on a line that is not an entry (a torn write); callers skip
 * those. Whatever the line holds, the entry it gives can be serialised: a payload too deep to serialise safely
 * (lines written before the write side checked) stays raw text with a frame.too-deep finding.
 */
export function fromLine(line: string): LogEntry {
  const stored = storedOf(line);
  if (typeof stored !== 'object' || stored === null || typeof stored.raw !== 'string' || !Array.isArray(stored.findings)) throw new TypeError('not a log entry');
  if (stored.rawBytes !== undefined) return stored; // only the first part of the frame is there: nothing to parse
  const parsed = parseFrame(stored.raw);
  // parseFrame refuses what nests too deep before parsing it; a payload that parses is checked once more.
  const deep = parsed.ok ? exceedsDepth(payloadOf(parsed.frame)) : parsed.problem.kind === 'too-deep';
  if (parsed.ok && !deep) return { ...stored, payload: payloadOf(parsed.frame) };
  if (!deep || stored.findings.some((f) => f.rule === TOO_DEEP.rule)) return stored;
  return { ...stored, findings: [...stored.findings, TOO_DEEP] };
}

/**
 * One entry as JSON text for the read APIs, whatever it holds: when it cannot be serialised, it is rendered without
 * its payload (raw text, bounded) and with a finding saying so, rather than failing the page.
 */
export function entryJson(entry: LogEntry, maxRawBytes: number = DEFAULT_MAX_RAW_BYTES): string {
  const text = tryStringify(entry);
  if (text !== undefined) return text;
  const { payload: _payload, ...rest } = entry;
  const finding: Finding = { rule: 'log.unserialisable', message: 'this entry could not be serialised: shown as raw text only' };
  return (
    tryStringify({ ...rest, findings: [...entry.findings, finding] }) ??
    JSON.stringify({ id: entry.id, time: entry.time, atUs: entry.atUs, chargeBoxId: String(entry.chargeBoxId), raw: truncateUtf8(String(entry.raw), maxRawBytes), findings: [finding] })
  );
}
