// Fault rules in cluster mode: a rule acts in the relay of the node holding the station, so list/set/remove/clear
// on a station held by another node run there (request over Redis) and its answer comes back. A station held by
// nobody keeps its persistent rules on the node asked (they act only if the station connects there).
import type { FaultsAccess, FaultsPort } from '../relay/faults/index.js';
import type { StationOwnership } from './ownership.js';
import { asGatewayError, type ClusterRpc } from './rpc.js';

type FaultsRequest =
  | { readonly op: 'list' | 'clear'; readonly chargeBoxId: string }
  | { readonly op: 'set'; readonly chargeBoxId: string; readonly raw: unknown; readonly setBy: string }
  | { readonly op: 'remove'; readonly chargeBoxId: string; readonly ruleId: string };

function run(port: FaultsPort, r: FaultsRequest): unknown {
  switch (r.op) {
    case 'list':
      return port.list(r.chargeBoxId);
    case 'clear':
      return port.clear(r.chargeBoxId);
    case 'set':
      return port.set(r.chargeBoxId, r.raw, r.setBy);
    case 'remove':
      return port.remove(r.chargeBoxId, r.ruleId);
  }
}

export function routedFaults(local: FaultsPort, ownership: StationOwnership, rpc: ClusterRpc, timeoutMs: number): FaultsAccess {
  rpc.handle('faults', async (body) => run(local, body as FaultsRequest));
  async function via<T>(r: FaultsRequest): Promise<T> {
    const node = await ownership.elsewhere(r.chargeBoxId);
    if (node === undefined) return run(local, r) as T;
    try {
      return (await rpc.request(node, 'faults', r, timeoutMs)) as T;
    } catch (err) {
      throw asGatewayError(err, node);
    }
  }
  return {
    list: (chargeBoxId) => via({ op: 'list', chargeBoxId }),
    set: (chargeBoxId, raw, setBy) => via({ op: 'set', chargeBoxId, raw, setBy }),
    remove: (chargeBoxId, ruleId) => via({ op: 'remove', chargeBoxId, ruleId }),
    clear: (chargeBoxId) => via({ op: 'clear', chargeBoxId }),
  };
}
