// Entry point of push/: builds the token verifier from the configured key and the Socket.IO push server.
import type { Registry } from 'prom-client';
import { createTokenVerifier, signToken, type TokenRequest, type TokenVerifier } from './jwt.js';
import { loadTokenKeys } from './keys.js';
import { registerPushMetrics } from './prometheus.js';
import { PushServer, type PushServerDeps } from './server.js';
import type { PushStats } from './stats.js';

export type { PushConfig } from './config.js';
export { parsePushConfig } from './config.js';
export type { CallOutcome, CallsPort, GatewayMetricsSnapshot, HistorySource, SimControlPort, StateSource, StationSummary } from './ports.js';
export type { Principal, Role, TokenVerifier, VerifyResult, AuthRefusalCode } from './jwt.js';
export type { PushStats } from './stats.js';
export { viewerPushStats } from './stats.js';

/** What the push server needs; the token verifier is built here from the configured key. */
export type CreatePushServerDeps = Omit<PushServerDeps, 'verify'> & { readonly registry?: Registry };

export interface PushHandle {
  start(): void;
  stop(): Promise<void>;
  stats(): PushStats;
  /** The same check Socket.IO uses; hand it to the REST auth middleware (src/api/auth.ts). */
  readonly verifyToken: TokenVerifier;
  /** Signs a token with the configured key (dev token endpoint); throws when only a public key is configured. */
  issueToken(req: TokenRequest): string;
}

export function createPushServer(deps: CreatePushServerDeps): PushHandle {
  const keys = loadTokenKeys(deps.config.key);
  const opts = {
    ...(deps.config.issuer ? { issuer: deps.config.issuer } : {}),
    ...(deps.config.audience ? { audience: deps.config.audience } : {}),
  };
  if (deps.config.key.kind === 'embedded') {
    deps.logger.info(
      { file: keys.origin, created: keys.created },
      keys.created
        ? 'no JWT key configured: generated an HS256 secret (mode 0600); `npm run token` signs with it'
        : 'no JWT key configured: using the embedded HS256 secret; `npm run token` signs with it',
    );
  } else {
    deps.logger.info({ algorithm: keys.algorithm, from: keys.origin }, 'JWT verification key loaded');
  }
  const verifyToken = createTokenVerifier(keys, opts);
  const server = new PushServer({ ...deps, verify: verifyToken });
  if (deps.registry) registerPushMetrics(deps.registry, () => server.stats());
  return {
    start: () => server.start(),
    stop: () => server.stop(),
    stats: () => server.stats(),
    verifyToken,
    issueToken: (req) => signToken(keys, req, opts),
  };
}
