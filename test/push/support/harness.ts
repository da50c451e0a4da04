// A real gateway (relay, message log, event model) with the push server attached, plus Socket.IO client helpers.
import jwt from 'jsonwebtoken';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { parsePushConfig, type PushConfig } from '../../../src/push/config.js';
import type { PushHandle } from '../../../src/push/index.js';
import { startGateway } from '../../support/gateway.js';

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop';

export type TestGateway = Awaited<ReturnType<typeof startGateway>>;

export interface PushGateway {
  readonly gw: TestGateway;
  readonly push: PushHandle;
  readonly config: PushConfig;
  readonly url: string;
  close(): Promise<void>;
}

export async function startPushGateway(env: Record<string, string> = {}): Promise<PushGateway> {
  // The gateway builds its own push server and REST guard from the same environment, as in production.
  const fullEnv = { JWT_SECRET: SECRET, CALL_TIMEOUT_MS: '5000', ...env };
  const gw = await startGateway(fullEnv);
  const config = parsePushConfig(fullEnv, gw.config);
  return {
    gw,
    push: gw.push,
    config,
    url: gw.httpUrl,
    async close() {
      await gw.stop();
    },
  };
}

/** noExp: no expiresIn option (no exp claim at all, or the exp given in the claims). */
export function token(claims: Record<string, unknown> = {}, opts: jwt.SignOptions & { secret?: jwt.Secret; noExp?: boolean } = {}): string {
  const { secret = SECRET, noExp = false, ...sign } = opts;
  const options: jwt.SignOptions = { algorithm: 'HS256', expiresIn: '1h', ...sign };
  if (noExp) delete options.expiresIn;
  return jwt.sign({ sub: 'tester', role: 'operator', ...claims }, secret, options);
}

export const operatorToken = (): string => token({ role: 'operator', sub: 'op' });
export const viewerToken = (chargers: string[]): string => token({ role: 'viewer', sub: 'viewer', chargers });

export interface ConnectOpts {
  readonly token?: string;
  /** Raw handshake auth object (overrides `token`). */
  readonly auth?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly reconnection?: boolean;
  /** Default: WebSocket only. */
  readonly transports?: ('websocket' | 'polling')[];
}

/** Connects (over WebSocket unless told otherwise); resolves once connected, rejects with the server's connect_error data. */
export function connect(url: string, opts: ConnectOpts = {}): Promise<ClientSocket> {
  const socket = ioClient(url, {
    transports: opts.transports ?? ['websocket'],
    reconnection: opts.reconnection ?? false,
    forceNew: true,
    ...(opts.auth ? { auth: opts.auth } : opts.token !== undefined ? { auth: { token: opts.token } } : {}),
    ...(opts.headers ? { extraHeaders: opts.headers } : {}),
    ...(opts.query ? { query: opts.query } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      reject(Object.assign(new Error(err.message), { data: err.data }));
    });
  });
}

/** The refusal code the server put in connect_error, or 'connected'. */
export async function refusal(url: string, opts: ConnectOpts): Promise<string> {
  try {
    const s = await connect(url, opts);
    s.close();
    return 'connected';
  } catch (err) {
    return ((err as { data?: { code?: string } }).data?.code) ?? `no code: ${(err as Error).message}`;
  }
}

export function ack<T>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<T>;
}

/** Collects every emission of `event` on the socket. */
export function collect<T>(socket: ClientSocket, event: string): T[] {
  const out: T[] = [];
  socket.on(event, (payload: T) => out.push(payload));
  return out;
}

export async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function once<T>(socket: ClientSocket, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}
