// Real processes for the cluster tests: a private redis-server, gateway nodes (node src/main.ts) and HAProxy, all on
// loopback with ports chosen free. Nothing here touches the machine's shared Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { RedisLink } from '../../src/cluster/redis.js';
import { freePort } from '../support/mariadb.js';
import { connectStation, type StationClient } from '../support/station-client.js';

export { freePort };

export const SECRET = 'cluster-test-secret-0123456789-abcdefgh';
const root = path.resolve(import.meta.dirname, '../..');
const live = new Set<ChildProcess>();
/** Kills every process these helpers started (afterAll; also those of a start-up that failed half way). */
export function killAll(): void {
  for (const p of live) p.kill('SIGKILL');
}
process.once('exit', killAll);

export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function track(p: ChildProcess): Promise<number | null> {
  live.add(p);
  return new Promise((resolve) => p.once('exit', (code) => {
    live.delete(p);
    resolve(code);
  }));
}

async function waitForPort(port: number, ms = 20_000): Promise<void> {
  await until(() => new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  }), ms, `port ${port}`);
}

export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that holds its connections open but answers nothing. */
  pause(paused: boolean): void;
}

/** No persistence: a restart comes back empty, the harshest case for the cluster. */
export async function startRedis(atPort?: number): Promise<PrivateRedis> {
  const port = atPort ?? await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      exited = track(child);
      await waitForPort(port);
    },
    async stop() {
      child?.kill('SIGCONT');
      child?.kill('SIGKILL');
      await exited;
    },
    pause(paused: boolean) {
      child?.kill(paused ? 'SIGSTOP' : 'SIGCONT');
    },
  };
  await redis.start();
  return redis;
}

export interface GatewayNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  output(): string;
  kill9(): Promise<void>;
  /** SIGSTOP / SIGCONT: a node that is alive but does not answer. */
  pause(paused: boolean): void;
  stop(): Promise<void>;
  get<T = unknown>(p: string): Promise<T>;
  post<T = unknown>(p: string, body: unknown): Promise<{ status: number; body: T }>;
}

export function operatorToken(): string {
  return jwt.sign({ sub: 'op', role: 'operator' }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
}

/** A station on `node` that has booted; kept in `into` so the test's afterAll closes it. */
export async function bootedStation(node: GatewayNode, id: string, into: StationClient[]): Promise<StationClient> {
  const st = await connectStation(`ws://127.0.0.1:${node.port}/ocpp/${id}`);
  into.push(st);
  await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
  return st;
}

export async function startNode(name: string, env: Record<string, string>): Promise<GatewayNode> {
  const port = await freePort();
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), `cb-node-${name}-`));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', SIM_STATIONS: '0', JWT_SECRET: SECRET,
      CLUSTER_NODE_ID: name, CLUSTER_NODE_TTL_MS: '1500', CLUSTER_LEASE_MS: '1500', ...env, DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
  let gone = false;
  const exited = track(child).then((code) => {
    gone = true;
    return code;
  });
  const url = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${operatorToken()}` };
  await until(() => {
    if (gone) throw new Error(`node ${name} exited during start-up`);
    return /cluster node started/.test(out);
  }, 60_000, `node ${name} start`).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${out.slice(-3000)}`);
  });
  return {
    name, port, url, dataDir,
    output: () => out,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    pause(paused: boolean) {
      child.kill(paused ? 'SIGSTOP' : 'SIGCONT');
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
    async get<T>(p: string): Promise<T> {
      const res = await fetch(`${url}${p}`, { headers });
      if (!res.ok) throw new Error(`GET ${p} on ${name}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async post<T>(p: string, body: unknown): Promise<{ status: number; body: T }> {
      const res = await fetch(`${url}${p}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as T };
    },
  };
}

export interface Haproxy {
  readonly port: number;
  stop(): Promise<void>;
}

/** HAProxy in front of the nodes: round robin, WebSocket upgrades passed through, dead nodes skipped by checks. */
export async function startHaproxy(backends: readonly number[]): Promise<Haproxy> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-haproxy-'));
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfg, [
    'global', '  maxconn 4096',
    'defaults', '  mode http', '  timeout connect 1s', '  timeout client 60s', '  timeout server 60s', '  timeout tunnel 1h',
    `frontend stations`, `  bind 127.0.0.1:${port}`, '  default_backend gateways',
    'backend gateways', '  balance roundrobin',
    ...backends.map((p, i) => `  server n${i} 127.0.0.1:${p} check inter 300 fall 2 rise 2`),
    '',
  ].join('\n'));
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' });
  const exited = track(child);
  await waitForPort(port);
  return {
    port,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A private Redis for one test file (started before its tests, stopped after) and connections to it. */
export function redisForTests(): { link(): Promise<RedisLink> } {
  let redis: PrivateRedis | undefined;
  const links: RedisLink[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const l of links) l.close();
    await redis?.stop();
  });
  return {
    async link() {
      const l = new RedisLink(redis!.url, 'test', pino({ level: 'silent' }));
      links.push(l);
      await l.connect();
      return l;
    },
  };
}
