// POST /api/stations/:id/calls — an operator sends an OCPP call to a station the gateway holds.
// The payload is schema-checked before anything is sent; the answer (or a timeout, or the side that dropped the
// link) comes back as the response.
import express, { type Router } from 'express';
import type { GatewayErrorCode } from '../errors.js';
import { operatorCall, type CallPort } from '../relay/commands.js';
import type { CallOutcome } from '../relay/relay.js';
import type { ApiAuth } from './auth.js';

export interface CallsRoutesDeps {
  readonly auth: ApiAuth;
  readonly calls: CallPort;
  readonly timeoutMs: number;
}

const STATUS = { invalid: 400, not_connected: 409, too_large: 413, busy: 429, unreachable: 504, internal: 500 } as const;
const CODE = {
  invalid: 'GW_ERR_CALL_REJECTED',
  not_connected: 'GW_ERR_STATION_NOT_CONNECTED',
  too_large: 'GW_ERR_CALL_TOO_LARGE',
  busy: 'GW_ERR_CALL_QUEUE_FULL',
  unreachable: 'GW_ERR_CLUSTER_UNREACHABLE',
  internal: 'internal',
} as const;

export function createCallsRouter(deps: CallsRoutesDeps): Router {
  const router = express.Router();
  router.post('/stations/:id/calls', deps.auth.require({ role: 'operator' }), express.json({ limit: '256kb' }), async (req, res) => {
    const chargeBoxId = req.params.id;
    const body: unknown = req.body;
    const { action, payload } = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const r = await operatorCall(deps.calls, { chargeBoxId, action, payload }, deps.timeoutMs);
    if (r.ok) {
      const { outcome } = r;
      if (outcome.kind === 'disconnected') {
        const code: GatewayErrorCode = 'GW_ERR_STATION_DISCONNECTED';
        res.status(503).json({ chargeBoxId, action, outcome, error: { code, message: disconnectMessage(String(chargeBoxId), outcome) } });
        return;
      }
      res.status(outcome.kind === 'timeout' ? 504 : 200).json({ chargeBoxId, action, outcome });
      return;
    }
    const extra = r.reason === 'invalid' && r.violation ? { violation: r.violation } : r.reason === 'too_large' ? { size: r.size, limit: r.limit } : {};
    res.status(STATUS[r.reason]).json({ error: { code: CODE[r.reason], message: r.message, ...extra } });
  });
  return router;
}

function disconnectMessage(chargeBoxId: string, o: Extract<CallOutcome, { kind: 'disconnected' }>): string {
  const who = { station: `station ${chargeBoxId} closed its link`, upstream: `the upstream of ${chargeBoxId} closed`, gateway: `the gateway closed ${chargeBoxId}'s link` }[o.side];
  return `${who} before it answered (${o.reason})`;
}
