// Fault rules over Socket.IO (operators): `faults` with { op: 'list' | 'set' | 'remove' | 'clear', chargeBoxId,
// rule?, ruleId? }, answered as an ack. The same rules and checks as REST (src/relay/faults).
import { GatewayError } from '../errors.js';
import type { FaultsAccess } from '../relay/faults/index.js';
import { canSee, type Principal } from './jwt.js';
import { fail, type Ack } from './protocol.js';

export type FaultsAck = Ack<Record<string, unknown>> | { readonly ok: false; readonly error: { readonly code: 'invalid_params'; readonly message: string; readonly field: string } };

export async function faultsCommand(port: FaultsAccess, principal: Principal, request: unknown): Promise<FaultsAck> {
  try {
    return await command(port, principal, request);
  } catch (err) {
    // Cluster mode: the node holding the station did not answer.
    if (err instanceof GatewayError) return fail('unreachable', err.message);
    throw err;
  }
}

async function command(port: FaultsAccess, principal: Principal, request: unknown): Promise<FaultsAck> {
  const r = typeof request === 'object' && request !== null ? (request as Record<string, unknown>) : {};
  const { op, chargeBoxId } = r;
  if (typeof chargeBoxId !== 'string' || chargeBoxId === '') return fail('invalid_params', 'expected { op, chargeBoxId, rule?, ruleId? }');
  if (!canSee(principal, chargeBoxId)) return fail('forbidden', `this token does not cover station ${chargeBoxId}`);
  switch (op) {
    case 'list':
      return { ok: true, rules: await port.list(chargeBoxId) };
    case 'set': {
      const s = await port.set(chargeBoxId, r.rule, principal.sub);
      if (s.ok) return { ok: true, rule: s.rule };
      if (s.reason === 'invalid') return { ok: false, error: { code: 'invalid_params', message: s.message, field: s.field } };
      return fail('not_connected', s.message);
    }
    case 'remove':
      if (typeof r.ruleId !== 'string') return fail('invalid_params', 'remove needs ruleId');
      return (await port.remove(chargeBoxId, r.ruleId)) ? { ok: true } : fail('invalid_params', `station ${chargeBoxId} has no fault rule ${r.ruleId}`);
    case 'clear':
      return { ok: true, removed: await port.clear(chargeBoxId) };
    default:
      return fail('invalid_params', 'op must be list, set, remove or clear');
  }
}
