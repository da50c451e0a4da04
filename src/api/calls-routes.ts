// POST /api/stations/:id/calls — an operator sends an OCPP call to a station the gateway holds.
// The payload is schema-checked before anything is sent; the answer (or a timeout) comes back as the response.
import express, { type Router } from 'express';
import { GatewayError } from '../errors.js';
import { validate } from '../ocpp/validate.js';
import type { ApiAuth } from './auth.js';

/** The relay's answer (mirrors src/relay's CallOutcome). */
export type ApiCallOutcome =
  | { readonly kind: 'result'; readonly payload: unknown }
  | { readonly kind: 'error'; readonly code: string; readonly description: string; readonly details: unknown }
  | { readonly kind: 'timeout' };

export interface CallsRoutesDeps {
  readonly auth: ApiAuth;
  readonly calls: { call(chargeBoxId: string, action: string, payload: unknown, opts?: { timeoutMs?: number }): Promise<ApiCallOutcome> };
  readonly timeoutMs: number;
}

export function createCallsRouter(deps: CallsRoutesDeps): Router {
  const router = express.Router();
  router.post('/stations/:id/calls', deps.auth.require({ role: 'operator' }), express.json({ limit: '256kb' }), async (req, res) => {
    const chargeBoxId = req.params.id;
    if (typeof chargeBoxId !== 'string' || chargeBoxId === '') {
      res.status(400).json({ error: { code: 'GW_ERR_CALL_REJECTED', message: 'station id missing' } });
      return;
    }
    const body: unknown = req.body;
    const { action, payload } = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (typeof action !== 'string' || action === '') {
      res.status(400).json({ error: { code: 'GW_ERR_CALL_REJECTED', message: 'body must be { action: string, payload: object }' } });
      return;
    }
    const callPayload = payload ?? {};
    const violation = validate(action, 'req', callPayload);
    if (violation) {
      res.status(400).json({ error: { code: 'GW_ERR_CALL_REJECTED', message: violation.message, violation } });
      return;
    }
    try {
      const outcome = await deps.calls.call(chargeBoxId, action, callPayload, { timeoutMs: deps.timeoutMs });
      res.status(outcome.kind === 'timeout' ? 504 : 200).json({ chargeBoxId, action, outcome });
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'GW_ERR_STATION_NOT_CONNECTED') {
        res.status(409).json({ error: { code: err.code, message: `station ${chargeBoxId} is not connected` } });
        return;
      }
      res.status(500).json({ error: { code: 'internal', message: err instanceof Error ? err.message : 'call failed' } });
    }
  });
  return router;
}
