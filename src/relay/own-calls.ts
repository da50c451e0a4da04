// The gateway's own calls to a station (operator commands): checked against the link's message limit and the
// station's queue budget when accepted, settled by the station's answer. The relay sends them, one at a time and
// behind any call SteVe has in flight to the station.
import type pino from 'pino';
import { GatewayError } from '../errors.js';
import { CALL, CALLERROR, encodeCall, type Frame } from '../ocpp/frames.js';
import type { CallOutcome, StationSession } from './session.js';

export interface OwnCall {
  readonly id: string;
  readonly action: string;
  readonly payload: unknown;
  /** The CALL as sent, encoded once when it is accepted (its size is checked against the link's limit). */
  readonly text: string;
  readonly size: number;
  readonly timeoutMs: number;
  readonly resolve: (outcome: CallOutcome) => void;
}

export interface InFlightOwnCall {
  readonly id: string;
  readonly sentAt: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: CallOutcome) => void;
}

/**
 * The CALL as it will be sent, or the error refusing it: larger than the link says the station accepts
 * (GW_ERR_CALL_TOO_LARGE: sent, it would cost the link), or more than `budget` bytes would wait (GW_ERR_CALL_QUEUE_FULL).
 */
export function encodeOwnCall(session: StationSession, id: string, action: string, payload: unknown, budget: number, logger: pino.Logger): { text: string; size: number } | GatewayError {
  const chargeBoxId = session.link.chargeBoxId;
  const text = encodeCall(id, action, payload);
  const limit = session.link.maxMessageBytes;
  const size = Buffer.byteLength(text);
  if (limit !== undefined && size > limit) {
    const message = `the call is ${size} bytes; station ${chargeBoxId} accepts messages of at most ${limit} bytes`;
    return new GatewayError('GW_ERR_CALL_TOO_LARGE', message, { chargeBoxId, size, limit });
  }
  if (session.ownQueueBytes + size > budget) {
    const message = `station ${chargeBoxId} already has ${session.ownQueue.length} calls (${session.ownQueueBytes} bytes) waiting; at most ${budget} bytes may wait`;
    logger.warn({ chargeBoxId, action, queued: session.ownQueue.length, bytes: session.ownQueueBytes }, 'own call refused: queue full');
    return new GatewayError('GW_ERR_CALL_QUEUE_FULL', message, { chargeBoxId, queued: session.ownQueue.length, bytes: session.ownQueueBytes, limit: budget });
  }
  return { text, size };
}

/** The station answered the gateway's call in flight: its caller gets the outcome. */
export function settleOwnCall(session: StationSession, frame: Frame, rttMs: number): void {
  const own = session.ownInFlight;
  if (!own || own.id !== frame.id) return;
  clearTimeout(own.timer);
  session.ownInFlight = undefined;
  if (frame.type === CALLERROR) {
    own.resolve({ kind: 'error', code: frame.code, description: frame.description, details: frame.details, rttMs });
  } else if (frame.type !== CALL) {
    own.resolve({ kind: 'result', payload: frame.payload, rttMs });
  }
}
