// REST /api/sim in cluster mode, mounted in front of the simulator's own router: a station simulated by another
// node is looked at, acted on or removed there (through the routed `sim` commands, the same answers as REST on that
// node), and the list holds every live node's simulated stations, naming the nodes that did not answer.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Membership } from './membership.js';
import type { SimCommandPort } from './routed-sim.js';
import type { ClusterRpc } from './rpc.js';

type SimAnswer = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

const STATUS: Record<string, number> = { not_found: 404, invalid: 400, conflict: 409, unreachable: 504 };

export interface SimRestDeps {
  /** The routed commands (cluster.routeSim). */
  readonly commands: SimCommandPort;
  readonly simulatedHere: (id: string) => boolean;
  /** This node's simulated stations. */
  readonly listHere: () => readonly object[];
  readonly nodeId: () => string;
  readonly membership: Membership;
  readonly rpc: ClusterRpc;
  readonly timeoutMs: number;
}

export function routedSimRest(deps: SimRestDeps): Router {
  deps.rpc.handle('simList', async () => deps.listHere());
  const router = express.Router();
  router.use(express.json({ limit: '64kb' }));

  router.get('/stations', async (_req, res) => {
    const stations = deps.listHere().map((s) => ({ ...s, node: deps.nodeId() }));
    const unanswered: { node: string; message: string }[] = [];
    await Promise.all(deps.membership.peers().map(async ({ nodeId }) => {
      try {
        const theirs = (await deps.rpc.request(nodeId, 'simList', null, deps.timeoutMs)) as object[];
        for (const s of theirs) stations.push({ ...s, node: nodeId });
      } catch (err) {
        unanswered.push({ node: nodeId, message: (err as Error).message });
      }
    }));
    res.json({ stations, unanswered });
  });

  // Stations simulated here go on to the simulator's own router (next), unchanged.
  const elsewhere = (command: (req: Request) => Record<string, unknown>, answer: (r: unknown, res: Response) => void) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const id = String(req.params.id);
      if (deps.simulatedHere(id)) return next();
      const r = (await deps.commands.command({ ...command(req), id })) as SimAnswer;
      if (r.ok) answer(r.result, res);
      else res.status(STATUS[r.error.code] ?? 500).json({ error: r.error });
    };
  router.get('/stations/:id', elsewhere(() => ({ op: 'get' }), (r, res) => res.json(r)));
  router.delete('/stations/:id', elsewhere(() => ({ op: 'remove' }), (_r, res) => res.status(204).end()));
  router.post('/stations/:id/actions/:type', elsewhere((req) => {
    const body = typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    return { op: 'act', action: { ...body, type: req.params.type } };
  }, (r, res) => res.status((r as { ok?: unknown }).ok === true ? 200 : 409).json(r)));
  return router;
}
