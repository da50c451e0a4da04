// One entry point for simulator commands arriving as untyped data (Socket.IO `sim` event): checks the request,
// runs it, and answers with a result or an error code. REST has its own router over the same Simulator methods.
import { SimError, type Simulator } from './simulator.js';
import { checkAction, checkStationSpec } from './spec.js';

export type SimCommandResult =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly code: 'not_found' | 'invalid' | 'conflict' | 'unreachable' | 'internal'; readonly message: string } };

const invalid = (message: string): SimCommandResult => ({ ok: false, error: { code: 'invalid', message } });

export async function runSimCommand(sim: Simulator, request: unknown): Promise<SimCommandResult> {
  if (typeof request !== 'object' || request === null) return invalid('request must be an object with an "op"');
  const r = request as Record<string, unknown>;
  try {
    switch (r.op) {
      case 'list':
        return { ok: true, result: { stations: sim.list(), totals: sim.totals() } };
      case 'create': {
        const checked = checkStationSpec(r.spec);
        if (!checked.ok) return invalid(checked.message);
        return { ok: true, result: sim.create(checked.spec) };
      }
      case 'get':
        if (typeof r.id !== 'string') return invalid('"id" must be a string');
        return { ok: true, result: sim.get(r.id) };
      case 'remove':
        if (typeof r.id !== 'string') return invalid('"id" must be a string');
        sim.remove(r.id);
        return { ok: true, result: { removed: r.id } };
      case 'act': {
        if (typeof r.id !== 'string') return invalid('"id" must be a string');
        const checked = checkAction(r.action);
        if (!checked.ok) return invalid(checked.message);
        return { ok: true, result: await sim.act(r.id, checked.action) };
      }
      default:
        return invalid('"op" must be one of list, create, get, remove, act');
    }
  } catch (err) {
    if (err instanceof SimError) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: { code: 'internal', message: (err as Error).message } };
  }
}
