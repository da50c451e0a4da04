// GET /api/push/stats (operators) and, only with DEV_TOKEN_ENDPOINT, POST /api/push/dev-token for loopback callers.
import express, { type Router } from 'express';
import { isDirectLoopback, type ApiAuth } from './auth.js';

/** Relative to the router's /api mount. */
export const DEV_TOKEN_PATH = '/push/dev-token';
/** List this in ApiAuthOptions.publicPaths when the dev endpoint is enabled. */
export const DEV_TOKEN_URL = `/api${DEV_TOKEN_PATH}`;

export interface PushRoutesDeps {
  readonly auth: ApiAuth;
  readonly stats: () => unknown;
  /** Present only when DEV_TOKEN_ENDPOINT is set. */
  readonly devToken?: (req: { sub: string; role: 'operator' | 'viewer'; chargers?: readonly string[]; ttl: string | number }) => string;
}

const TTL = /^\d+(s|m|h|d)?$/;

export function createPushRouter(deps: PushRoutesDeps): Router {
  const router = express.Router();
  router.get('/push/stats', deps.auth.require({ role: 'operator' }), (_req, res) => {
    res.json(deps.stats());
  });
  const issue = deps.devToken;
  if (issue) {
    router.post(DEV_TOKEN_PATH, express.json({ limit: '8kb' }), (req, res) => {
      if (!isDirectLoopback(req)) {
        res.status(403).json({ error: { code: 'forbidden', message: 'the dev token endpoint answers loopback callers only' } });
        return;
      }
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
      const role = body.role;
      const chargers = body.chargers;
      const ttl = body.ttl ?? '1h';
      if (role !== 'operator' && role !== 'viewer') {
        res.status(400).json({ error: { code: 'invalid_params', message: 'role must be operator or viewer' } });
        return;
      }
      if (chargers !== undefined && !(Array.isArray(chargers) && chargers.every((c) => typeof c === 'string'))) {
        res.status(400).json({ error: { code: 'invalid_params', message: 'chargers must be an array of strings' } });
        return;
      }
      if (!(typeof ttl === 'number' && ttl > 0) && !(typeof ttl === 'string' && TTL.test(ttl))) {
        res.status(400).json({ error: { code: 'invalid_params', message: 'ttl must be seconds or like 30m, 8h, 7d' } });
        return;
      }
      const sub = typeof body.sub === 'string' && body.sub !== '' ? body.sub : `dev-${role}`;
      try {
        res.json({ token: issue({ sub, role, ...(chargers ? { chargers: chargers as string[] } : {}), ttl }) });
      } catch (err) {
        res.status(501).json({ error: { code: 'internal', message: err instanceof Error ? err.message : 'cannot sign' } });
      }
    });
  }
  return router;
}
