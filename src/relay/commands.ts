// The narrow port through which operators reach stations (REST and Socket.IO): a call's shape and payload are
// checked against the OCPP 1.6 schema before the relay sends it, and the outcome says what happened.
import { GatewayError } from '../errors.js';
import { validate, type SchemaViolation } from '../ocpp/validate.js';
import { redactAnswerPayload } from './authorization-key.js';
import type { CallOutcome } from './relay.js';

export interface CallPort {
  call(chargeBoxId: string, action: string, payload: unknown, opts?: { timeoutMs?: number }): Promise<CallOutcome>;
}

export type OperatorCallResult =
  | { readonly ok: true; readonly outcome: CallOutcome }
  | { readonly ok: false; readonly reason: 'invalid'; readonly message: string; readonly violation?: SchemaViolation }
  | { readonly ok: false; readonly reason: 'too_large'; readonly message: string; readonly size: number; readonly limit: number }
  | { readonly ok: false; readonly reason: 'not_connected' | 'busy' | 'unreachable' | 'internal'; readonly message: string };

/** `request` is untrusted: { chargeBoxId, action, payload? }. */
export async function operatorCall(port: CallPort, request: unknown, timeoutMs: number): Promise<OperatorCallResult> {
  if (typeof request !== 'object' || request === null) return { ok: false, reason: 'invalid', message: 'expected { chargeBoxId, action, payload }' };
  const { chargeBoxId, action, payload } = request as Record<string, unknown>;
  if (typeof chargeBoxId !== 'string' || chargeBoxId === '') return { ok: false, reason: 'invalid', message: 'chargeBoxId must be a non-empty string' };
  if (typeof action !== 'string' || action === '') return { ok: false, reason: 'invalid', message: 'action must be a non-empty string' };
  const body = payload ?? {};
  const violation = validate(action, 'req', body);
  if (violation) return { ok: false, reason: 'invalid', message: violation.message, violation };
  try {
    const outcome = await port.call(chargeBoxId, action, body, { timeoutMs });
    // The operator sees the answer, not a station password in it.
    return { ok: true, outcome: outcome.kind === 'result' ? { ...outcome, payload: redactAnswerPayload(action, outcome.payload) } : outcome };
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_STATION_NOT_CONNECTED') {
      return { ok: false, reason: 'not_connected', message: `station ${chargeBoxId} is not connected` };
    }
    if (err instanceof GatewayError && err.code === 'GW_ERR_CALL_QUEUE_FULL') return { ok: false, reason: 'busy', message: err.message };
    // Cluster mode: the node holding the station did not answer (src/cluster/routed-calls.ts).
    if (err instanceof GatewayError && err.code === 'GW_ERR_CLUSTER_UNREACHABLE') return { ok: false, reason: 'unreachable', message: err.message };
    if (err instanceof GatewayError && err.code === 'GW_ERR_CALL_TOO_LARGE') {
      return { ok: false, reason: 'too_large', message: err.message, size: Number(err.details.size), limit: Number(err.details.limit) };
    }
    return { ok: false, reason: 'internal', message: err instanceof Error ? err.message : 'call failed' };
  }
}
