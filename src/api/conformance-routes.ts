// GET /api/conformance (operators): the newest passive conformance findings, filtered by station and rule, and
// the rules with the behaviour each checks.
import express, { type Router } from 'express';
import type { ApiAuth } from './auth.js';
import { ruleCatalogue, type Conformance } from '../conformance/index.js';

export function createConformanceRouter(deps: { readonly auth: ApiAuth; readonly conformance: Conformance }): Router {
  const router = express.Router();
  router.get('/conformance', deps.auth.require({ role: 'operator' }), (req, res) => {
    const { chargeBoxId, rule, limit } = req.query;
    const n = typeof limit === 'string' ? Number(limit) : undefined;
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) {
      res.status(400).json({ error: { code: 'invalid', message: 'limit must be a positive integer' } });
      return;
    }
    res.json({
      ...deps.conformance.findings({
        ...(typeof chargeBoxId === 'string' ? { chargeBoxId } : {}),
        ...(typeof rule === 'string' ? { rule } : {}),
        ...(n !== undefined ? { limit: n } : {}),
      }),
      rules: ruleCatalogue(),
    });
  });
  return router;
}
