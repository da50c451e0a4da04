// SIGTERM ends the gateway process within the documented time whatever its stdout is connected to: a pipe nobody
// reads (full), or one whose reader has exited (EPIPE). Log lines that cannot be written are dropped and counted,
// never waited for; and a main thread stuck for good is ended from a thread of its own. Real processes
// (node --import tsx src/main.ts, as bench/lib/proc.ts starts it), real stations.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parsePushConfig } from '../src/push/config.js';
import { signToken } from '../src/push/jwt.js';
import { loadTokenKeys } from '../src/push/keys.js';

const root = path.resolve(import.meta.dirname, '..');
/** The documented bound: 10 s for the shutdown, then at most 1 s to flush the last log lines. */
const EXIT_WITHIN_MS = 11_500;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    return existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const listening = (port: number) => (): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });

function gatewayEnv(port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'debug', SIM_STATIONS: '0', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-shutdown-')), ...extra };
}

/** Connects `n` stations; each connect (and, at shutdown, each disconnect) writes a log line. */
async function connectStations(port: number, n: number): Promise<void> {
  const sockets: WebSocket[] = [];
  cleanups.push(() => { for (const s of sockets) s.terminate(); });
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/CP${i}`, ['ocpp1.6']);
    ws.on('error', () => undefined);
    sockets.push(ws);
    await new Promise((r) => { ws.once('open', r); ws.once('close', r); });
  }
}

/** An operator's Authorization header, signed with the key in the gateway's environment (as `npm run token` does). */
function operator(env: NodeJS.ProcessEnv): { authorization: string } {
  const keys = loadTokenKeys(parsePushConfig(env).key);
  return { authorization: `Bearer ${signToken(keys, { sub: 'test', role: 'operator', ttl: '1h' })}` };
}

/** Sends SIGTERM and measures how long until the process is gone (it need not be our child). */
async function terminate(pid: number): Promise<number> {
  const t = Date.now();
  process.kill(pid, 'SIGTERM');
  await until(`process ${pid} to exit`, () => !alive(pid), EXIT_WITHIN_MS + 3_000).catch(() => undefined);
  return Date.now() - t;
}

function killLater(pid: number): void {
  cleanups.push(() => { if (alive(pid)) process.kill(pid, 'SIGKILL'); });
}

describe('shutdown', () => {
  it('exits 0 within the bound when stdout is a pipe nobody reads, with many stations connected; the lines it could not write are counted', async () => {
    const port = await freePort();
    // The test never reads the gateway's stdout: the pipe fills and stays full.
    const env = gatewayEnv(port, { LOG_BUFFER_BYTES: '16384' });
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout?.pause();
    killLater(child.pid as number);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await until('the gateway to listen', listening(port), 60_000);
    await connectStations(port, 600);
    // Visible while it runs: the lines that did not fit are counted in health and Prometheus.
    const headers = operator(env);
    const health = (await (await fetch(`http://127.0.0.1:${port}/api/health`, { headers })).json()) as { logging?: { dropped: number } };
    expect(health.logging?.dropped).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers })).text();
    expect(metrics).toMatch(/chargebridge_log_lines_dropped_total [1-9]/);
    const ms = await terminate(child.pid as number);
    expect(ms).toBeLessThan(EXIT_WITHIN_MS);
    expect(await exited).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('exits 0 within the bound after the parent that read its stdout has exited (EPIPE), idle or with stations connected', async () => {
    for (const stations of [0, 300]) {
      const port = await freePort();
      // A parent that starts the gateway with its stdout and stderr piped to itself, reads them, and exits once
      // the gateway listens, leaving it running (as bench/lib/proc.ts's parent does when it ends).
      const parent = `
        const { spawn } = require('node:child_process');
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stderr.on('data', () => undefined);
        child.stdout.on('data', (d) => { out += d; if (out.includes('gateway listening')) { console.log('pid ' + child.pid); process.exit(0); } });`;
      const p = spawn(process.execPath, ['-e', parent], { cwd: root, env: gatewayEnv(port), stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise((r) => p.once('exit', r));
      const pid = Number(/pid (\d+)/.exec(out)?.[1]);
      expect(pid).toBeGreaterThan(0);
      killLater(pid);
      await connectStations(port, stations);
      expect(alive(pid)).toBe(true);
      const ms = await terminate(pid);
      expect(ms, `with ${stations} stations`).toBeLessThan(EXIT_WITHIN_MS);
    }
  }, 120_000);

  it('exits 0 within the bound when the reader of its stdout has exited (EPIPE), idle or with stations connected', async () => {
    for (const stations of [0, 200]) {
      const port = await freePort();
      // `cat` reads the gateway's stdout (the pipe's write end is handed to the gateway), then is killed: the pipe
      // has no reader and every write fails with EPIPE. The gateway stays this test's child, so its exit code shows.
      const reader = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
      cleanups.push(() => reader.kill('SIGKILL'));
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: gatewayEnv(port), stdio: ['ignore', reader.stdin, 'ignore'] });
      killLater(child.pid as number);
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      await until('the gateway to listen', listening(port), 60_000);
      await connectStations(port, stations);
      reader.kill('SIGKILL');
      await new Promise((r) => reader.once('exit', r));
      // The first line written without a reader is the shutdown's (and then a disconnect per station).
      const ms = await terminate(child.pid as number);
      expect(ms, `with ${stations} stations`).toBeLessThan(EXIT_WITHIN_MS);
      expect(await exited).toEqual({ code: 0, signal: null });
    }
  }, 120_000);

  it('exits 0 when SIGTERM comes while it is still starting: its port already open, its simulated stations not yet started', async () => {
    for (let round = 0; round < 3; round++) {
      const port = await freePort();
      // Many simulated stations: the simulator starts after the port opens, so start-up is still going on then.
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: gatewayEnv(port, { SIM_STATIONS: '300' }), stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.on('data', () => undefined);
      killLater(child.pid as number);
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      // As soon as the port answers (polled every few ms, not the helper's 20 ms).
      for (const deadline = Date.now() + 60_000; !(await listening(port)()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 2));
      const ms = await terminate(child.pid as number);
      expect(ms).toBeLessThan(EXIT_WITHIN_MS);
      expect(await exited, `round ${round}`).toEqual({ code: 0, signal: null });
    }
  }, 120_000);

  it("ends the process from its own thread when the main thread is stuck in a synchronous call, and never delays an exit", async () => {
    const run = (body: string): Promise<{ code: number | null; signal: string | null; ms: number }> => {
      const t = Date.now();
      const code = `import { armExitWatchdog } from './src/exit-watchdog.ts';\n${body}`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, stdio: 'ignore' });
      killLater(child.pid as number);
      return new Promise((resolve) => child.once('exit', (c, sig) => resolve({ code: c, signal: sig, ms: Date.now() - t })));
    };
    // Blocked for good: no timer of the main thread could fire.
    const stuck = await run('armExitWatchdog(300); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);');
    expect(stuck).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(stuck.ms).toBeLessThan(5_000);
    const exits = await run('armExitWatchdog(20_000); setTimeout(() => process.exit(3), 100);');
    expect(exits).toMatchObject({ code: 3, signal: null });
    expect(exits.ms).toBeLessThan(5_000);
    const ends = await run('armExitWatchdog(20_000); setTimeout(() => undefined, 100);');
    expect(ends).toMatchObject({ code: 0, signal: null });
    expect(ends.ms).toBeLessThan(5_000);
  }, 60_000);
});
