// Fault rules over REST (operators): GET/POST /api/stations/:id/faults, DELETE one rule or all of them.
// A bad rule gets 400 naming the field; a rule for a station that is not connected must be persistent (409).
// In cluster mode the rules live on the node holding the station: one that does not answer is 504.
import express, { type Request, type Response, type Router } from 'express';
import { GatewayError } from '../errors.js';
import type { FaultsAccess } from '../relay/faults/index.js';
import { principalOf, visibleTo, type ApiAuth } from './auth.js';

export interface FaultsRoutesDeps {
  readonly auth: ApiAuth;
  readonly faults: FaultsAccess;
}

export function createFaultsRouter(deps: FaultsRoutesDeps): Router {
  const router = express.Router();
  const { faults } = deps;
  router.use('/stations/:id/faults', deps.auth.require({ role: 'operator' }), express.json({ limit: '64kb' }), (req, res, next) => {
    // An operator token limited to some chargers reaches only those.
    if (!visibleTo(res, String(req.params.id))) res.status(403).json({ error: { code: 'forbidden', message: `this token does not cover station ${req.params.id}` } });
    else next();
  });

  router.get('/stations/:id/faults', answer<{ id: string }>(async (req, res) => {
    res.json({ chargeBoxId: req.params.id, rules: await faults.list(req.params.id) });
  }));
  router.post('/stations/:id/faults', answer<{ id: string }>(async (req, res) => {
    const r = await faults.set(req.params.id, req.body, principalOf(res)?.sub ?? 'unknown');
    if (r.ok) res.status(201).json(r.rule);
    else if (r.reason === 'invalid') res.status(400).json({ error: { code: 'GW_ERR_FAULT_INVALID', field: r.field, message: r.message } });
    else res.status(409).json({ error: { code: 'GW_ERR_STATION_NOT_CONNECTED', message: r.message } });
  }));
  router.delete('/stations/:id/faults/:ruleId', answer<{ id: string; ruleId: string }>(async (req, res) => {
    if (await faults.remove(req.params.id, req.params.ruleId)) res.status(204).end();
    else res.status(404).json({ error: { code: 'not_found', message: `station ${req.params.id} has no fault rule ${req.params.ruleId}` } });
  }));
  router.delete('/stations/:id/faults', answer<{ id: string }>(async (req, res) => {
    res.json({ chargeBoxId: req.params.id, removed: await faults.clear(req.params.id) });
  }));
  return router;
}

/** The node holding the station did not answer (cluster mode): 504 naming it; anything else is the app's 500. */
function answer<P>(fn: (req: Request<P>, res: Response) => Promise<void>): (req: Request<P>, res: Response) => Promise<void> {
  return async (req, res) => {
    try {
      await fn(req, res);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      res.status(err.code === 'GW_ERR_CLUSTER_UNREACHABLE' ? 504 : 502).json({ error: { code: err.code, message: err.message } });
    }
  };
}
