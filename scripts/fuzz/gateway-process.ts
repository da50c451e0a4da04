// The gateway under test as a real child process: its own DATA_DIR, its port read from its start-up log line,
// memory read from /proc, health read over HTTP with an operator token, and a stop that always ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { track, trackDir } from './children.js';
import { GATEWAY_NODE_FLAGS } from '../../src/node-flags.js';

export const root = path.resolve(import.meta.dirname, '../..');

export type Entry = 'src' | 'dist';

export interface GatewayExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface GatewayProcess {
  readonly pid: number;
  readonly port: number;
  readonly dataDir: string;
  /** Set once the process has exited. */
  exit(): GatewayExit | undefined;
  /** The last output lines (bounded), for a report when the process died. */
  tail(maxChars?: number): string;
  /** Resident set size now and its peak (VmHWM), from /proc; undefined once the process is gone. */
  memory(): { rss: number; peak: number } | undefined;
  health(): Promise<Record<string, unknown> | undefined>;
  /** GET with an operator token; never throws (a failed request is status 0 with the error as body). */
  get(pathAndQuery: string, timeoutMs?: number): Promise<{ status: number; type: string; body: string }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<GatewayExit>;
}

const TAIL_BYTES = 64 * 1024;

/** A DATA_DIR and JWT secret for one or more gateway processes in a row (a restart reads what the first wrote). */
export interface GatewayHome {
  readonly dataDir: string;
  readonly secret: string;
  remove(): void;
}

export function createGatewayHome(): GatewayHome {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-fuzz-'));
  return { dataDir, secret: randomBytes(32).toString('hex'), remove: trackDir(dataDir) };
}

export async function startGatewayProcess(entry: Entry, home: GatewayHome, env: Record<string, string>, startTimeoutMs = 60_000): Promise<GatewayProcess> {
  const { dataDir, secret } = home;
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" or "--import ./bench/lib/loop-probe.mjs") examines the
  // gateway under fuzz, as in the other benches; the fuzzer and its well-behaved stations run without it.
  // The gateway's own flags first (src/node-flags.ts: what npm start runs); BENCH_NODE_ARGS may override them.
  const extra = [...GATEWAY_NODE_FLAGS, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const args = [...extra, ...(entry === 'dist' ? [path.join(root, 'dist/main.js')] : ['--import', 'tsx', path.join(root, 'src/main.ts')])];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', SIM_STATIONS: '0', LOG_LEVEL: 'info', ...env, DATA_DIR: dataDir, JWT_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let tail = '';
  let exited: GatewayExit | undefined;
  // FUZZ_GATEWAY_OUTPUT=<file> keeps all of the gateway's output (e.g. with BENCH_NODE_ARGS="--trace-gc-nvp").
  const keep = process.env.FUZZ_GATEWAY_OUTPUT;
  const onOutput = (d: Buffer): void => {
    if (keep) appendFileSync(keep, d);
    tail += d.toString('utf8');
    if (tail.length > TAIL_BYTES * 2) tail = tail.slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  const exitPromise = new Promise<GatewayExit>((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway printed no listening line within ${startTimeoutMs} ms:\n${tail.slice(-2000)}`)), startTimeoutMs);
    const look = (): void => {
      const m = /"port":(\d+)/.exec(tail);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', look);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', look);
    void exitPromise.then((e) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited before listening (code ${e.code}, signal ${e.signal}):\n${tail.slice(-2000)}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });

  const token = jwt.sign({ sub: 'fuzz', role: 'operator' }, secret, { algorithm: 'HS256', expiresIn: '2h' });
  const pid = child.pid as number;
  const get: GatewayProcess['get'] = async (pathAndQuery, timeoutMs = 30_000) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
    } catch (err) {
      return { status: 0, type: '', body: (err as Error).message };
    }
  };
  return {
    pid,
    port,
    dataDir,
    exit: () => exited,
    tail: (maxChars = 4000) => tail.slice(-maxChars),
    memory() {
      if (exited) return undefined;
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
        return { rss: kb('VmRSS'), peak: kb('VmHWM') };
      } catch {
        return undefined;
      }
    },
    get,
    async health() {
      if (exited) return undefined;
      const res = await get('/api/health', 5000);
      try {
        return res.status === 200 ? (JSON.parse(res.body) as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    },
    async stop(graceMs = 10_000) {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitPromise;
        clearTimeout(killer);
      }
      return exitPromise;
    },
  };
}

/** Every numeric field named like a drop counter in a health document, by its dotted path. */
export function dropCounters(health: unknown, prefix = ''): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const stack: Array<[string, unknown]> = [[prefix, health]];
  while (stack.length > 0) {
    const [at, value] = stack.pop() as [string, unknown];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const [key, v] of Object.entries(value)) {
      const p = at ? `${at}.${key}` : key;
      if (typeof v === 'number' && /drop/i.test(key)) out.push([p, v]);
      else if (typeof v === 'object' && v !== null && at.split('.').length < 6) stack.push([p, v]);
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}
