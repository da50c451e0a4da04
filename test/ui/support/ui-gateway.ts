// A real gateway for the UI tests (push server, REST guard with the dev token endpoint on, the UI), plus a switch
// that cuts browsers off the way a network drop would.
import type { Socket } from 'node:net';
import jwt from 'jsonwebtoken';
import type { PushHandle } from '../../../src/push/index.js';
import type { GatewayOptions } from '../../../src/gateway.js';
import { startGateway } from '../../support/gateway.js';

export const SECRET = 'ui-test-secret-0123456789-abcdefghijkl';

export type TestGateway = Awaited<ReturnType<typeof startGateway>>;

export interface UiGateway {
  readonly gw: TestGateway;
  readonly push: PushHandle;
  readonly url: string;
  /** Cuts every Socket.IO connection and refuses new ones until `allow()`. */
  dropBrowsers(): void;
  /** Makes every open Socket.IO connection silent both ways without closing it (a dead NAT, a frozen proxy). */
  freezeBrowsers(): void;
  allow(): void;
  close(): Promise<void>;
}

export async function startUiGateway(opts: { callTimeoutMs?: number; env?: Record<string, string>; gateway?: GatewayOptions } = {}): Promise<UiGateway> {
  const env = { JWT_SECRET: SECRET, DEV_TOKEN_ENDPOINT: 'true', CALL_TIMEOUT_MS: String(opts.callTimeoutMs ?? 2000), ...opts.env };
  const gw = await startGateway(env, opts.gateway ?? {});
  // The gateway wires the push server, the REST guard (dev token endpoint on) and the UI itself.
  const push = gw.push;

  // Socket.IO upgrades, so the test can cut browsers off the way a network drop would.
  const open = new Set<Socket>();
  let blocked = false;
  const frozen = new Set<Socket>();
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
    freezeBrowsers() {
      for (const s of open) {
        s.pause();
        s.cork();
        open.delete(s);
        frozen.add(s);
      }
    },
    allow() {
      blocked = false;
    },
    async close() {
      // A frozen socket would hold the HTTP server's close open.
      for (const s of frozen) s.destroy();
      await gw.stop();
    },
  };
}

export function token(claims: Record<string, unknown> = {}, opts: { secret?: string; expiresIn?: number | `${number}${'s' | 'm' | 'h'}` } = {}): string {
  return jwt.sign({ sub: 'bench', role: 'operator', ...claims }, opts.secret ?? SECRET, { algorithm: 'HS256', expiresIn: opts.expiresIn ?? '1h' });
}
