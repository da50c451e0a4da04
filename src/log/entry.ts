// Turns a frame observation into a log entry (id, time, payload, findings) and an entry into one JSON line and back.
// Runs in the log's batch, never inside the bus listener.
import { parseFrame, type Frame, type ParseResult } from '../ocpp/frames.js';
import { MAX_VALIDATED_CHARS, validate } from '../ocpp/validate.js';
import type { Mutable } from '../events/catalogue.js';
import type { Finding, FrameObservation, LogEntry } from '../events/observations.js';
import { isoMicros } from './time.js';

/** The payload a frame carries; a CALLERROR's is its code, description and details. */
function payloadOf(frame: Frame): unknown {
  if (frame.type === 4) return { code: frame.code, description: frame.description, details: frame.details };
  return frame.payload;
}

/** Shared by every clean entry: most frames have no findings, and one array each would be garbage. */
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

function findingsOf(obs: FrameObservation, parsed: ParseResult): readonly Finding[] {
  if (!parsed.ok) return [{ rule: `frame.${parsed.problem.kind}`, message: obs.problem ?? parsed.problem.message }];
  const { frame } = parsed;
  // A result can be checked only when the relay paired it with its CALL and so knows the action.
  const checkable = frame.type === 2 || (frame.type === 3 && obs.action !== undefined);
  const skipped = checkable && obs.raw.length > MAX_VALIDATED_CHARS;
  const violation =
    !checkable || skipped ? null : frame.type === 2 ? validate(frame.action, 'req', frame.payload) : frame.type === 3 ? validate(obs.action ?? '', 'conf', frame.payload) : null;
  if (obs.problem === undefined && !violation && !skipped) return NO_FINDINGS;
  const findings: Finding[] = [];
  if (obs.problem !== undefined) findings.push({ rule: 'frame.refused', message: obs.problem });
  if (violation) findings.push({ rule: `schema.${violation.rule}`, field: violation.field, message: violation.message });
  if (skipped) findings.push({ rule: 'schema.skipped', message: `not checked against the schema: ${obs.raw.length} characters is over ${MAX_VALIDATED_CHARS}` });
  return findings;
}

export function toLogEntry(obs: FrameObservation, id: number): LogEntry {
  // The relay's parse when it made one; the text otherwise (refused frames, observations from elsewhere).
  const parsed: ParseResult = obs.frame ? { ok: true, frame: obs.frame } : parseFrame(obs.raw);
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
    raw: obs.raw,
    findings: findingsOf(obs, parsed),
  };
  if (obs.messageType !== undefined) entry.messageType = obs.messageType;
  if (obs.action !== undefined) entry.action = obs.action;
  if (obs.messageId !== undefined) entry.messageId = obs.messageId;
  if (obs.forwardUs !== undefined) entry.forwardUs = obs.forwardUs;
  if (obs.rttMs !== undefined) entry.rttMs = obs.rttMs;
  if (obs.problem !== undefined) entry.problem = obs.problem;
  if (parsed.ok) entry.payload = payloadOf(parsed.frame);
  return entry;
}

/**
 * One line of a day file, newline included. The payload is not stored: it is derived from `raw` again on read,
 * which keeps files a third smaller.
 */
export function encodeLine(entry: LogEntry): Buffer {
  const { payload: _payload, ...stored } = entry;
  return Buffer.from(`${JSON.stringify(stored)}\n`);
}

/** Reverses encodeLine (without the newline). Throws on a line that is not JSON (a torn write); callers skip those. */
export function fromLine(line: string): LogEntry {
  const stored = JSON.parse(line) as LogEntry;
  const parsed = parseFrame(stored.raw);
  return parsed.ok ? { ...stored, payload: payloadOf(parsed.frame) } : stored;
}
