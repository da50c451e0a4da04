// An operator's OCPP call to a station over Socket.IO: shape check, schema check, then the relay's call.
import { GatewayError } from '../errors.js';
import { validate } from '../ocpp/validate.js';
import type { CallsPort } from './ports.js';
import { fail, type CallAck } from './protocol.js';

export async function operatorCall(calls: CallsPort, timeoutMs: number, request: unknown): Promise<CallAck> {
  if (typeof request !== 'object' || request === null) return fail('invalid_params', 'expected { chargeBoxId, action, payload }');
  const { chargeBoxId, action, payload } = request as Record<string, unknown>;
  if (typeof chargeBoxId !== 'string' || chargeBoxId === '') return fail('invalid_params', 'chargeBoxId must be a non-empty string');
  if (typeof action !== 'string' || action === '') return fail('invalid_params', 'action must be a non-empty string');
  const body = payload ?? {};
  const violation = validate(action, 'req', body);
  if (violation) return fail('invalid_params', violation.message, violation);
  try {
    return { ok: true, outcome: await calls.call(chargeBoxId, action, body, { timeoutMs }) };
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_STATION_NOT_CONNECTED') return fail('not_connected', `station ${chargeBoxId} is not connected`);
    return fail('internal', err instanceof Error ? err.message : 'call failed');
  }
}
