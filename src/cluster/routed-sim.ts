// Simulator commands in cluster mode: a simulated station lives in the node that created it, so an action on, a
// look at or the removal of a station simulated elsewhere is run by the node holding it; create and list stay local.
import type { StationOwnership } from './ownership.js';
import type { ClusterRpc } from './rpc.js';

export interface SimCommandPort {
  command(request: unknown): Promise<unknown>;
}

export function routedSim(local: SimCommandPort, simulatedHere: (id: string) => boolean, ownership: StationOwnership, rpc: ClusterRpc, timeoutMs: number): SimCommandPort {
  rpc.handle('sim', (body) => local.command(body));
  return {
    async command(request) {
      const r = typeof request === 'object' && request !== null ? (request as { op?: unknown; id?: unknown }) : {};
      if ((r.op !== 'act' && r.op !== 'remove' && r.op !== 'get') || typeof r.id !== 'string' || simulatedHere(r.id)) return local.command(request);
      const node = await ownership.elsewhere(r.id);
      if (node === undefined) return local.command(request);
      try {
        return await rpc.request(node, 'sim', request, timeoutMs);
      } catch (err) {
        return { ok: false, error: { code: 'unreachable', message: (err as Error).message } };
      }
    },
  };
}
