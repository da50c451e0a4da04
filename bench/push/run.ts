// Push benchmark: event → client receipt latency (p50/p99) with 1,000 and 10,000 connected, subscribed
// Socket.IO clients, and server memory per idle client. Bounded: a few dozen events per scenario.
//   npx tsx bench/push/run.ts            (both scenarios)
//   npx tsx bench/push/run.ts 1000       (one scenario)
// The server is the real push server on a real HTTP server, fed by the real event model (sequencer +
// history + station state); clients run in two child processes on the same machine.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { Bus } from '../../src/events/bus.js';
import { createEventModel } from '../../src/events/index.js';
import type { Receipt } from './clients.js';
import { startBenchPush } from './server.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const WORKERS = 2;
const STATION = 'BENCH1';

interface Scenario { clients: number; events: number; gapMs: number }
const ALL: Scenario[] = [
  // Ten events a second is a busy bench (tens of stations, meter values every few seconds); 10,000 clients
  // all watching one station is the fan-out worst case.
  { clients: 1000, events: 100, gapMs: 100 },
  { clients: 10_000, events: 30, gapMs: 500 },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function settle(): number {
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function ask<T>(child: ChildProcess, msg: object, kind: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown): void => {
      if ((m as { kind?: string }).kind === kind) {
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function scenario(s: Scenario): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-push-'));
  const logger = pino({ level: 'silent' });
  const bus = new Bus();
  const model = createEventModel({ bus, dataDir, logger, binlogConfigured: false });
  await model.start();
  const { push, url, token, fanOutSlice, stop: stopPush } = await startBenchPush({ bus, model, dataDir, logger });

  let seq = 0;
  const emit = (info: string): void => {
    const now = new Date().toISOString();
    bus.emit('eventInput', { id: `bench-${++seq}`, type: 'status', chargeBoxId: STATION, connectorId: 1, timestamp: now, receivedAt: now, source: 'station', data: { status: seq % 2 ? 'Charging' : 'SuspendedEV', errorCode: 'NoError', synthetic: false, info } });
  };
  emit('warm-up'); // the station exists before clients subscribe

  const before = settle();
  const t0 = performance.now();
  const children = Array.from({ length: WORKERS }, () => fork(path.join(import.meta.dirname, 'clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const per = Math.ceil(s.clients / WORKERS);
  const ready = await Promise.all(children.map((c, i) => ask<{ connected: number; failed: number }>(c, { cmd: 'start', url, token, stations: Array<string>(Math.min(per, s.clients - i * per)).fill(STATION) }, 'ready')));
  const connected = ready.reduce((a, r) => a + r.connected, 0);
  const failed = ready.reduce((a, r) => a + r.failed, 0);
  const connectS = (performance.now() - t0) / 1000;
  await sleep(1000);
  const idle = settle();
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  const perClientKiB = (idle - before) / connected / 1024;

  // Server side: the synchronous part of one event (sequencer, history, state, fan-out into every socket).
  const dispatch: number[] = [];
  // How long the event loop (and so any relayed frame) waited while events were fanned out.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < s.events; i++) {
    const at = performance.now();
    emit(String(performance.timeOrigin + at));
    dispatch.push(performance.now() - at);
    await sleep(s.gapMs);
  }
  loop.disable();
  dispatch.sort((a, b) => a - b);
  await sleep(Math.max(1000, s.gapMs * 4));
  const cpu = process.cpuUsage(cpu0);
  const cpuPerEventMs = (cpu.user + cpu.system) / 1000 / s.events;
  const reports = await Promise.all(children.map((c) => ask<{ receipts: Receipt[] }>(c, { cmd: 'report' }, 'report')));
  // info carries the wall-clock send time (ms).
  const all = reports.flatMap((r) => r.receipts.map(([info, at]) => at - Number(info))).filter(Number.isFinite).sort((a, b) => a - b);
  const expected = connected * s.events;
  const stats = push.stats();

  console.log(
    `push bench: ${s.clients} clients (${connected} connected, ${failed} failed, connect ${connectS.toFixed(1)} s), ` +
      `${s.events} events ${s.gapMs} ms apart, ${all.length}/${expected} receipts\n` +
      `  event → client receipt: p50 ${pct(all, 50).toFixed(2)} ms, p99 ${pct(all, 99).toFixed(2)} ms, max ${(all.at(-1) ?? NaN).toFixed(2)} ms\n` +
      `  server synchronous work per event (first fan-out slice of ${fanOutSlice} sockets): p50 ${pct(dispatch, 50).toFixed(2)} ms, p99 ${pct(dispatch, 99).toFixed(2)} ms\n` +
      `  server CPU per event (user+sys, all ${connected} deliveries): ${cpuPerEventMs.toFixed(2)} ms\n` +
      `  event-loop delay while pushing (what a relayed frame could wait): p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms\n` +
      `  server memory per idle client: ${perClientKiB.toFixed(1)} KiB (heap+external delta after GC), process RSS ${rssMiB.toFixed(0)} MiB\n` +
      `  server counters: pushed ${stats.pushed.events} events, lost to gaps ${stats.dropped.eventsDropped}, slow disconnects ${stats.disconnects.slowConsumer}`,
  );

  for (const c of children) c.send({ cmd: 'close' });
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  await stopPush();
  await model.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const only = process.argv[2] ? Number(process.argv[2]) : undefined;
const deadline = setTimeout(() => {
  console.error('push bench: exceeded 170 s, aborting');
  process.exit(1);
}, 170_000);
deadline.unref();
console.log(`push bench on ${os.cpus().length} cores, node ${process.version}, ${WORKERS} client processes`);
for (const s of ALL) if (only === undefined || s.clients === only) await scenario(s);
