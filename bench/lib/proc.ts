// Helpers for benchmarks: child processes that print their port, CPU and RSS read from /proc, percentiles.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { GATEWAY_NODE_FLAGS, hasSemiSpaceFlag } from '../../src/node-flags.js';

export const root = path.resolve(import.meta.dirname, '../..');

/**
 * For a bench that runs gateway modules in its own process (binlog reader, event model, push): runs this script
 * again under the flags the gateway ships with (src/node-flags.ts), unless the process has a young-generation flag
 * already (an experiment's own), so that what is measured is what runs. Returns only in the process to bench in.
 */
export function withGatewayFlags(): void {
  if (hasSemiSpaceFlag(process.execArgv, process.env.NODE_OPTIONS)) return;
  const r = spawnSync(process.execPath, [...GATEWAY_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

export function startProcess(script: string, env: Record<string, string>, portPattern: RegExp, nodeArgs: readonly string[] = [], cwd: string = root): Promise<{ child: ChildProcess; port: number }> {
  // The gateway runs with the flags it ships with (src/node-flags.ts); nodeArgs come after them, so a bench can
  // override one (e.g. --compare-args "--max-semi-space-size=16" for V8's default).
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the processes under test.
  const own = /(^|\/)(src\/main\.ts|dist\/main\.js)$/.test(script) ? GATEWAY_NODE_FLAGS : [];
  const extra = [...own, ...nodeArgs, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${script} did not report a port: ${out}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = portPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => reject(new Error(`${script} exited ${code}: ${out}`)));
  });
}

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by a process. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** CPU seconds used so far by one thread of a process (the main thread's id is the process id). */
export function threadCpuSeconds(pid: number, tid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Times a thread has gone to sleep so far (voluntary context switches): each is a wake-up later, which costs CPU
 * of its own (scheduler, caches), outside what a V8 profile shows. */
export function threadSleeps(pid: number, tid: number): number {
  const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** The middle value (mean of the two middle ones for an even count): how the benches compare rounds. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Send a forked child a message and wait for its reply of the given `kind`. */
export function ask<T>(child: ChildProcess, msg: object, kind: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if ((m as { kind?: string }).kind !== kind) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}

/** Wall clock in ms with sub-ms resolution, comparable between the bench's processes (receipts in one, sends in another). */
export function wall(): number {
  return performance.timeOrigin + performance.now();
}

/** Sends SIGTERM and waits (at most `ms`) for the process to exit. */
export function stopProcess(child: ChildProcess, ms = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(); }, ms);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}
