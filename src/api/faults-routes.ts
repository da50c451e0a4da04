// Fault rules over REST (operators): GET/POST /api/stations/:id/faults, DELETE one rule or all of them.
// A bad rule gets 400 naming the field; a rule for a station that is not connected must be persistent (409).
import express, { type Router } from 'express';
import type { FaultsPort } from '../relay/faults/index.js';
import { principalOf, visibleTo, type ApiAuth } from './auth.js';

export interface FaultsRoutesDeps {
  readonly auth: ApiAuth;
  readonly faults: FaultsPort;
}

export function createFaultsRouter(deps: FaultsRoutesDeps): Router {
  const router = express.Router();
  const { faults } = deps;
  router.use('/stations/:id/faults', deps.auth.require({ role: 'operator' }), express.json({ limit: '64kb' }), (req, res, next) => {
    // An operator token limited to some chargers reaches only those.
    if (!visibleTo(res, String(req.params.id))) res.status(403).json({ error: { code: 'forbidden', message: `this token does not cover station ${req.params.id}` } });
    else next();
  });

  router.get('/stations/:id/faults', (req, res) => {
    res.json({ chargeBoxId: req.params.id, rules: faults.list(req.params.id) });
  });
  router.post('/stations/:id/faults', (req, res) => {
    const r = faults.set(req.params.id, req.body, principalOf(res)?.sub ?? 'unknown');
    if (r.ok) res.status(201).json(r.rule);
    else if (r.reason === 'invalid') res.status(400).json({ error: { code: 'GW_ERR_FAULT_INVALID', field: r.field, message: r.message } });
    else res.status(409).json({ error: { code: 'GW_ERR_STATION_NOT_CONNECTED', message: r.message } });
  });
  router.delete('/stations/:id/faults/:ruleId', (req, res) => {
    if (faults.remove(req.params.id, req.params.ruleId)) res.status(204).end();
    else res.status(404).json({ error: { code: 'not_found', message: `station ${req.params.id} has no fault rule ${req.params.ruleId}` } });
  });
  router.delete('/stations/:id/faults', (req, res) => {
    res.json({ chargeBoxId: req.params.id, removed: faults.clear(req.params.id) });
  });
  return router;
}
