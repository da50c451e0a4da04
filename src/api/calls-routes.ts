// POST /api/stations/:id/calls — an operator sends an OCPP call to a station the gateway holds.
// The payload is schema-checked before anything is sent; the answer (or a timeout) comes back as the response.
import express, { type Router } from 'express';
import { operatorCall, type CallPort } from '../relay/commands.js';
import type { ApiAuth } from './auth.js';

export interface CallsRoutesDeps {
  readonly auth: ApiAuth;
  readonly calls: CallPort;
  readonly timeoutMs: number;
}

const STATUS = { invalid: 400, not_connected: 409, internal: 500 } as const;
const CODE = { invalid: 'GW_ERR_CALL_REJECTED', not_connected: 'GW_ERR_STATION_NOT_CONNECTED', internal: 'internal' } as const;

export function createCallsRouter(deps: CallsRoutesDeps): Router {
  const router = express.Router();
  router.post('/stations/:id/calls', deps.auth.require({ role: 'operator' }), express.json({ limit: '256kb' }), async (req, res) => {
    const chargeBoxId = req.params.id;
    const body: unknown = req.body;
    const { action, payload } = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const r = await operatorCall(deps.calls, { chargeBoxId, action, payload }, deps.timeoutMs);
    if (r.ok) {
      res.status(r.outcome.kind === 'timeout' ? 504 : 200).json({ chargeBoxId, action, outcome: r.outcome });
      return;
    }
    res.status(STATUS[r.reason]).json({ error: { code: CODE[r.reason], message: r.message, ...(r.reason === 'invalid' && r.violation ? { violation: r.violation } : {}) } });
  });
  return router;
}
