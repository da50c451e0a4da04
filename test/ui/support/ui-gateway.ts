// A real gateway for the UI tests: relay, message log and event model (startGateway), the Socket.IO push
// server and its REST routes (dev token endpoint on), and the UI router — wired here until src/gateway.ts does it.
import type { Socket } from 'node:net';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import { createApiAuth } from '../../../src/api/auth.js';
import { createPushRouter, DEV_TOKEN_PATH } from '../../../src/api/push-routes.js';
import { uiRouter } from '../../../src/api/ui-routes.js';
import { parsePushConfig } from '../../../src/push/config.js';
import { createPushServer, type PushHandle } from '../../../src/push/index.js';
import { startGateway } from '../../support/gateway.js';

export const SECRET = 'ui-test-secret-0123456789-abcdefghijkl';

export type TestGateway = Awaited<ReturnType<typeof startGateway>>;

export interface UiGateway {
  readonly gw: TestGateway;
  readonly push: PushHandle;
  readonly url: string;
  /** Cuts every Socket.IO connection and refuses new ones until `allow()`. */
  dropBrowsers(): void;
  allow(): void;
  close(): Promise<void>;
}

export async function startUiGateway(opts: { callTimeoutMs?: number } = {}): Promise<UiGateway> {
  const env = { JWT_SECRET: SECRET, DEV_TOKEN_ENDPOINT: 'true', CALL_TIMEOUT_MS: String(opts.callTimeoutMs ?? 2000) };
  const gw = await startGateway(env);
  // Once src/gateway.ts builds the push server itself (from the same env), use that one: two Socket.IO
  // servers on one HTTP server would fight over /socket.io.
  const wired = (gw as unknown as { push?: PushHandle }).push;
  const config = parsePushConfig(env, { dataDir: gw.dataDir, callTimeoutMs: opts.callTimeoutMs ?? 2000 });
  const push = wired ?? createPushServer({
    config,
    httpServer: gw.httpServer,
    bus: gw.bus,
    state: gw.events.state,
    history: gw.events.history,
    calls: gw.relay,
    metrics: () => ({ framesPerSecond: { in: 0, out: 0 }, relayRttMs: { p50: null, p95: null, p99: null }, links: {}, upstreams: {} }),
    logger: pino({ level: 'silent' }),
  });
  if (!wired) push.start();
  const auth = createApiAuth({ verify: push.verifyToken, openOnLoopback: false, publicPaths: [DEV_TOKEN_PATH] });
  gw.app.use('/api', createPushRouter({ auth, stats: () => push.stats(), devToken: (req) => push.issueToken(req) }));
  gw.app.use(uiRouter());

  // Socket.IO upgrades, so the test can cut browsers off the way a network drop would.
  const open = new Set<Socket>();
  let blocked = false;
  gw.httpServer.prependListener('upgrade', (req, socket: Socket) => {
    if (!req.url?.startsWith('/socket.io/')) return;
    if (blocked) {
      socket.destroy();
      return;
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });

  return {
    gw,
    push,
    url: gw.httpUrl,
    dropBrowsers() {
      blocked = true;
      for (const s of open) s.destroy();
    },
    allow() {
      blocked = false;
    },
    async close() {
      if (!wired) await push.stop();
      await gw.stop();
    },
  };
}

export function token(claims: Record<string, unknown> = {}, opts: { secret?: string; expiresIn?: number | `${number}${'s' | 'm' | 'h'}` } = {}): string {
  return jwt.sign({ sub: 'bench', role: 'operator', ...claims }, opts.secret ?? SECRET, { algorithm: 'HS256', expiresIn: opts.expiresIn ?? '1h' });
}
