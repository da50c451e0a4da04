// An operator's OCPP call to a station over Socket.IO: the relay's operator port, answered as an ack.
import { operatorCall, type CallPort } from '../relay/commands.js';
import { fail, type CallAck } from './protocol.js';

export async function operatorCallAck(calls: CallPort, timeoutMs: number, request: unknown): Promise<CallAck> {
  const r = await operatorCall(calls, request, timeoutMs);
  if (r.ok) return { ok: true, outcome: r.outcome };
  if (r.reason === 'invalid') return fail('invalid_params', r.message, r.violation);
  return fail(r.reason, r.message);
}
