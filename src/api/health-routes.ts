// GET /api/health and GET /api/stations: what is running and every station link's state.
import { Router } from 'express';
import type { StationInfo } from '../relay/relay.js';
import { principalOf, visibleTo } from './auth.js';

/** Who asks: sections that name other clients show operators everything and viewers only their own. */
export interface HealthScope {
  readonly operator: boolean;
  /** The token's subject (undefined for an open loopback read). */
  readonly sub?: string;
}

export interface HealthSources {
  readonly mode: 'steve' | 'local';
  readonly upstreamUrl?: string;
  readonly version: string;
  readonly startedAt: number;
  readonly stations: () => StationInfo[];
  /** Extra sections from feature modules (message log, binlog reader, push, serial, simulator). */
  readonly sections: (scope: HealthScope) => Record<string, unknown>;
}

export function healthRouter(sources: HealthSources): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    const principal = principalOf(res);
    const scope: HealthScope = { operator: principal?.role === 'operator', ...(principal ? { sub: principal.sub } : {}) };
    const stations = sources.stations();
    const upstreams: Record<string, number> = {};
    for (const s of stations) upstreams[s.upstream] = (upstreams[s.upstream] ?? 0) + 1;
    res.json({
      status: 'ok',
      mode: sources.mode,
      ...(sources.upstreamUrl ? { upstreamUrl: sources.upstreamUrl } : {}),
      version: sources.version,
      uptimeSeconds: Math.round((Date.now() - sources.startedAt) / 1000),
      stations: stations.length,
      upstreams,
      ...sources.sections(scope),
    });
  });
  router.get('/stations', (_req, res) => {
    // Viewers see only the stations their token names.
    res.json({ stations: sources.stations().filter((s) => visibleTo(res, s.chargeBoxId)) });
  });
  return router;
}
