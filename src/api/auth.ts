// JWT on the REST API: a guard for everything under /api, plus per-route role and station checks.
// The token is read from `Authorization: Bearer` only; a token in the query string is never looked at.
// The verifier is the push server's (same keys, same refusal codes), handed in by main.ts.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface ApiPrincipal {
  readonly sub: string;
  readonly role: 'operator' | 'viewer';
  readonly chargers: 'all' | ReadonlySet<string>;
  readonly expiresAt: number;
}

export type ApiVerify = (token: string | undefined) =>
  | { readonly ok: true; readonly principal: ApiPrincipal }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface ApiAuthOptions {
  readonly verify: ApiVerify;
  /** API_OPEN_ON_LOOPBACK: GETs under `openPaths` need no token when the peer is loopback and not proxied. */
  readonly openOnLoopback: boolean;
  /** Absolute paths (and everything below them) that direct loopback peers may GET without a token. */
  readonly openPaths?: readonly string[];
  /** Absolute paths that need no token at all (e.g. the dev token endpoint when enabled). */
  readonly publicPaths?: readonly string[];
}

export interface ApiAuth {
  /** Mount in front of everything that reveals station data: `app.use(['/api', '/metrics'], auth.guard)`. */
  readonly guard: RequestHandler;
  /** Per route: a verified token (and the role, when given). Re-verifies if the guard did not run. */
  require(opts?: { readonly role?: 'operator' }): RequestHandler;
  /** Per route with a `:param` station id: viewers only for stations in their chargers claim. */
  requireStation(param?: string): RequestHandler;
}

export const DEFAULT_OPEN_PATHS: readonly string[] = ['/api/stations', '/api/messages', '/api/metrics', '/metrics'];
const PRINCIPAL = 'principal';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Loopback peer and no proxy in between: behind a local reverse proxy every request would look loopback. */
export function isDirectLoopback(req: Request): boolean {
  if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) return false;
  return LOOPBACK.has(req.socket.remoteAddress ?? '');
}

function underAny(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}

export function principalOf(res: Response): ApiPrincipal | undefined {
  const p: unknown = res.locals[PRINCIPAL];
  return typeof p === 'object' && p !== null ? (p as ApiPrincipal) : undefined;
}

/** For list endpoints: may this request's principal see the station? (Open loopback reads see everything.) */
export function visibleTo(res: Response, chargeBoxId: string): boolean {
  const p = principalOf(res);
  return p === undefined || p.chargers === 'all' || p.chargers.has(chargeBoxId);
}

function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

function deny(res: Response, status: 401 | 403, code: string, message: string): void {
  if (status === 401) res.setHeader('WWW-Authenticate', `Bearer error="invalid_token", error_description="${code}"`);
  res.status(status).json({ error: { code, message } });
}

export function createApiAuth(opts: ApiAuthOptions): ApiAuth {
  const openPaths = opts.openPaths ?? DEFAULT_OPEN_PATHS;
  const publicPaths = opts.publicPaths ?? [];

  /** Sets res.locals.principal; false when it already answered 401. */
  const authenticate = (req: Request, res: Response): boolean => {
    if (principalOf(res)) return true;
    const result = opts.verify(bearer(req));
    if (!result.ok) {
      deny(res, 401, result.code, result.message);
      return false;
    }
    const principal = result.principal;
    res.locals[PRINCIPAL] = principal;
    // Read by the station-data routers (events-routes.ts) to scope what a viewer sees.
    res.locals.allowed = (chargeBoxId: string): boolean => principal.chargers === 'all' || principal.chargers.has(chargeBoxId);
    return true;
  };

  const guard: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    // Absolute, whatever the mount point.
    const path = `${req.baseUrl}${req.path}`.replace(/\/+$/, '') || '/';
    if (underAny(path, publicPaths)) return next();
    const openRead = opts.openOnLoopback && (req.method === 'GET' || req.method === 'HEAD') && underAny(path, openPaths) && isDirectLoopback(req);
    // An open read still honours a token when one is sent, so viewers stay scoped.
    if (openRead && bearer(req) === undefined) return next();
    if (authenticate(req, res)) next();
  };

  return {
    guard,
    require(ropts = {}) {
      return (req, res, next) => {
        if (!authenticate(req, res)) return;
        if (ropts.role === 'operator' && principalOf(res)?.role !== 'operator') {
          deny(res, 403, 'forbidden', 'operators only');
          return;
        }
        next();
      };
    },
    requireStation(param = 'id') {
      return (req, res, next) => {
        const id = req.params[param];
        if (typeof id !== 'string' || !visibleTo(res, id)) {
          deny(res, 403, 'forbidden', `not allowed to see station ${String(id)}`);
          return;
        }
        next();
      };
    },
  };
}
