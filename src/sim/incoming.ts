// Frames from the central system to a simulated station: an answer to one of the station's calls goes to its
// outbox; a call is checked against the OCPP 1.6 schema, answered (CALLRESULT, or CALLERROR for a malformed frame,
// a schema violation or an action the firmware does not support), and only then takes effect.
import { encodeCallError, encodeCallResult, parseFrame } from '../ocpp/frames.js';
import { validate } from '../ocpp/validate.js';
import type { CallAnswer } from './central-system-calls.js';
import type { StationCounters } from './station-env.js';

/** What receiving needs from its station (the station itself: no per-station closures). */
export interface IncomingHost {
  readonly counters: StationCounters;
  /** Hands one frame to the connection; false when it could not. */
  sendFrame(text: string): boolean;
  /** The central system answered the station's call `id` (CALLRESULT payload, or 'error' for a CALLERROR). */
  callAnswered(id: string, answer: Record<string, unknown> | 'error'): void;
  /** The answer to a schema-valid call, with what to do once it is sent. */
  answerCall(action: string, payload: Record<string, unknown>): CallAnswer;
  /** A call has taken effect: send what it queued, plan the next wake-up. */
  callDone(): void;
}

export function receiveFrame(host: IncomingHost, text: string): void {
  host.counters.framesIn++;
  const parsed = parseFrame(text);
  if (!parsed.ok) {
    const { messageId, isCall } = parsed.problem;
    if (isCall && messageId !== undefined) host.sendFrame(encodeCallError(messageId, 'FormationViolation', parsed.problem.message));
    return;
  }
  const f = parsed.frame;
  if (f.type === 2) {
    onCall(host, f.id, f.action, f.payload as Record<string, unknown>);
    return;
  }
  host.callAnswered(f.id, f.type === 3 ? (f.payload as Record<string, unknown>) : 'error');
}

function onCall(host: IncomingHost, id: string, action: string, payload: Record<string, unknown>): void {
  const violation = validate(action, 'req', payload);
  if (violation) {
    host.sendFrame(encodeCallError(id, violation.code, violation.message));
    return;
  }
  const answer = host.answerCall(action, payload);
  if (answer.kind === 'notSupported') {
    host.sendFrame(encodeCallError(id, 'NotSupported', `${action} is not supported by this charge point`));
    return;
  }
  host.sendFrame(encodeCallResult(id, answer.result));
  answer.after?.();
  host.callDone();
}
