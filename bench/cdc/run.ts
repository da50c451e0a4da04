// Binlog reader benchmark on a private mariadbd (SteVe 3.13 schema):
//  1. commit → event latency at 1,000 single-row transactions per second (connector_status INSERTs), bare
//     @vlasky/zongji first (the floor), then the reader;
//  2. catch-up throughput on CDC_BENCH_ROWS connector_meter_value rows (1000-row transactions, 4 measurands per
//     sample), the reader against bare @vlasky/zongji reading the same binlog range in the same run: once asking
//     for the same stream as the reader (ANNOTATE_ROWS included), once without those events.
// The reader runs both ways: in the main thread (the default) and in a thread of its own (CDC_READER_THREAD=on).
// The ratios to the floor and each side's slowest round / median are printed.
// Usage: npx tsx bench/cdc/run.ts   (CDC_BENCH_ROWS=1000000, CDC_BENCH_LATENCY_TX=3000 (0: no latency part), CDC_BENCH_ROUNDS=5,
//   CDC_THREAD_YOUNG_MB: the thread's young generation, as for the gateway; CDC_BENCH_YOUNG_MB=48,96: several)
// Each side gets one untimed warm-up pass before the measured rounds.
// CDC_BENCH_SIDES=bare,main: only these sides (bare, main, thread, plain, base), e.g. for a profile.
// CDC_BENCH_PROFILE=/tmp/dir: a CPU profile of each measured pass (this thread only), <side>-<round>.cpuprofile.
// Both sides run with the gateway's V8 flags (src/node-flags.ts) unless the process has a young-generation flag.
// CDC_BENCH_ALLOC=1: a sampling heap profile of each measured pass, collected objects included: bytes allocated per
//   row are printed per side (slows the passes: the ratios of such a run are not the bench's figures).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector';
import { performance } from 'node:perf_hooks';
import ZongJi, { type AnyBinlogEvent, type WriteRowsEvent } from '@vlasky/zongji';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Bus } from '../../src/events/bus.js';
import { createCdcReader, parseCdcConfig, type CdcConfig } from '../../src/cdc/index.js';
import { binlogOptions } from '../../src/cdc/db.js';
import { createSteveDatabase, startMariadb } from '../../test/support/mariadb.js';
import { SteveWriter, sqlTime } from '../../test/cdc/steve-writes.js';
import { median, withGatewayFlags } from '../lib/proc.js';

withGatewayFlags();

const ROWS = Number(process.env.CDC_BENCH_ROWS ?? 1_000_000);
const LATENCY_TX = Number(process.env.CDC_BENCH_LATENCY_TX ?? 3000);
const BATCH = 1000;
const ROUNDS = Number(process.env.CDC_BENCH_ROUNDS ?? 5);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const server = await startMariadb();
const url = await createSteveDatabase(server, { database: 'stevedb', generation: '3.13' });
const config = parseCdcConfig({
  STEVE_DB_URL: url,
  CDC_SERVER_ID: '901',
  CDC_READER_THREAD: 'on',
  ...(process.env.CDC_THREAD_YOUNG_MB ? { CDC_THREAD_YOUNG_MB: process.env.CDC_THREAD_YOUNG_MB } : {}),
}) as CdcConfig;
const { thread: _thread, ...inProcess } = config;
// CDC_BENCH_YOUNG_MB=48,96: one reader-thread side per young-generation size, to compare them in one run.
const youngSizes = (process.env.CDC_BENCH_YOUNG_MB ?? '').split(',').filter(Boolean).map(Number);
const MODES: readonly { label: string; config: CdcConfig }[] = [
  ...(youngSizes.length > 0
    ? youngSizes.map((mb) => ({ label: `reader (own thread, young ${mb} MB)`, config: { ...config, thread: { youngGenerationMb: mb } } }))
    : [{ label: 'reader (own thread)', config }]),
  { label: 'reader (main thread)', config: inProcess },
];
// CDC_BENCH_BASE=/tmp/checkout: one more side, the reader of another checkout (say the commit before a change) in the
// main thread, measured in the same rounds as this one.
const BASE = process.env.CDC_BENCH_BASE;
const baseReader = BASE ? ((await import(path.resolve(BASE, 'src/cdc/index.ts'))) as { createCdcReader: typeof createCdcReader }).createCdcReader : undefined;
const w = await SteveWriter.open(server, 'stevedb', '3.13');
await w.addStation('BENCH');
const pk = await w.tx(() => w.insertIgnoreConnector('BENCH', 1));
const quiet = pino({ level: 'silent' });

async function gtidNow(): Promise<string> {
  const rows = await server.query<{ g: string }[]>('SELECT @@gtid_binlog_pos AS g');
  return rows[0]!.g;
}

/**
 * Wraps a measured pass in a CPU profile (CDC_BENCH_PROFILE) and/or a sampling heap profile that counts collected
 * objects too (CDC_BENCH_ALLOC): the bytes a pass allocated go to `bytes`. Both see this thread only.
 */
function probe(): <P>(name: string, run: () => Promise<P>, bytes: number[]) => Promise<P> {
  const dir = process.env.CDC_BENCH_PROFILE;
  const alloc = process.env.CDC_BENCH_ALLOC === '1';
  if (!dir && !alloc) return (_name, run) => run();
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}): Promise<T> =>
    new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r as T))));
  return async (name, run, bytes) => {
    if (dir) {
      await mkdir(dir, { recursive: true });
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 200 });
      await post('Profiler.start');
    }
    if (alloc) {
      await post('HeapProfiler.enable');
      await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    }
    const pass = await run();
    if (alloc) {
      interface HeapNode { selfSize: number; children: HeapNode[] }
      const { profile } = await post<{ profile: { head: HeapNode } }>('HeapProfiler.stopSampling');
      let total = 0;
      const walk = (n: HeapNode): void => {
        total += n.selfSize;
        n.children.forEach(walk);
      };
      walk(profile.head);
      bytes.push(total);
      if (dir) await writeFile(path.join(dir, `${name}.heapprofile`), JSON.stringify(profile));
    }
    if (dir) {
      const { profile } = await post<{ profile: object }>('Profiler.stop');
      await writeFile(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    }
    return pass;
  };
}

try {
  // ---- 1. latency -------------------------------------------------------------------------------------------
  // The same paced INSERTs twice: once followed by the reader, once by bare @vlasky/zongji (the floor: what the
  // library alone takes from commit to event on this machine). Arrivals pair with INSERTs in commit order.
  type Follow = (arrived: () => void) => Promise<() => Promise<void>>;
  const followReader = (config: CdcConfig): Follow => async (arrived) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cb-bench-'));
    const bus = new Bus();
    bus.on('eventInput', (e) => {
      if (e.type === 'status') arrived();
    });
    const reader = createCdcReader({ config, bus, logger: quiet, dataDir, registry: new Registry() });
    await reader.start();
    while (reader.health().state !== 'streaming') await new Promise((r) => setTimeout(r, 20));
    return async () => {
      await reader.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  };
  const followBare: Follow = async (arrived) => {
    const z = new ZongJi(binlogOptions(config));
    const ready = new Promise<void>((resolve) => z.once('ready', () => resolve()));
    z.on('binlog', (ev: AnyBinlogEvent) => {
      if (ev.getEventName() === 'writerows') arrived();
    });
    z.start({ serverId: 904, startAtEnd: true, includeEvents: ['tablemap', 'writerows', 'xid'], includeSchema: { stevedb: ['connector_status'] } });
    await ready;
    return () => new Promise<void>((resolve) => {
      z.once('stopped', () => resolve());
      z.stop();
    });
  };
  let tsBase = Date.UTC(2026, 0, 1);
  const latency = async (label: string, follow: Follow): Promise<{ p50: number; p99: number }> => {
    const seen: number[] = [];
    const stop = await follow(() => seen.push(performance.now()));
    await new Promise((r) => setTimeout(r, 200));
    const sent: number[] = [];
    const acked: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < LATENCY_TX; i++) {
      const due = t0 + i; // one per millisecond = 1,000 tx/s
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const ts = new Date(tsBase + i * 1000);
      sent.push(performance.now());
      await w.q(`INSERT INTO connector_status (evse_pk, status_timestamp, status, error_code) VALUES (?, ?, 'Charging', 'NoError')`, [pk, sqlTime(ts)]);
      acked.push(performance.now());
    }
    tsBase += LATENCY_TX * 1000;
    const elapsed = (performance.now() - t0) / 1000;
    const deadline = Date.now() + 10_000;
    while (seen.length < LATENCY_TX && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await stop();
    const fromAck = seen.map((at, i) => at - acked[i]!).sort((a, b) => a - b);
    const fromSend = seen.map((at, i) => at - sent[i]!).sort((a, b) => a - b);
    console.log(`latency, ${label}: ${LATENCY_TX} single-row transactions at ${(LATENCY_TX / elapsed).toFixed(0)} tx/s, ${seen.length} events received`);
    console.log(`  commit ack → event  p50 ${pct(fromAck, 50).toFixed(3)} ms  p99 ${pct(fromAck, 99).toFixed(3)} ms  max ${fromAck.at(-1)!.toFixed(3)} ms`);
    console.log(`  send INSERT → event p50 ${pct(fromSend, 50).toFixed(3)} ms  p99 ${pct(fromSend, 99).toFixed(3)} ms  max ${fromSend.at(-1)!.toFixed(3)} ms`);
    return { p50: pct(fromAck, 50), p99: pct(fromAck, 99) };
  };
  if (LATENCY_TX > 0) {
    const floor = await latency('bare @vlasky/zongji (floor)', followBare);
    for (const mode of MODES) {
      const ours = await latency(`chargebridge ${mode.label}`, followReader(mode.config));
      console.log(`  the reader adds over the bare library: p50 ${(ours.p50 - floor.p50).toFixed(3)} ms, p99 ${(ours.p99 - floor.p99).toFixed(3)} ms; p99 ${(ours.p99 / floor.p99).toFixed(2)}× the floor's`);
    }
  }

  // ---- 2. catch-up ------------------------------------------------------------------------------------------
  const startGtid = await gtidNow();
  const tIns = performance.now();
  for (let done = 0; done < ROWS; done += BATCH) {
    const n = Math.min(BATCH, ROWS - done);
    const rows: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const r = done + i;
      const ts = sqlTime(new Date(Date.UTC(2026, 1, 1) + Math.floor(r / 4) * 1000));
      rows.push([pk, null, ts, String(r), 'Sample.Periodic', ['Energy.Active.Import.Register', 'SoC', 'Voltage', 'Current.Import'][r % 4], 'Wh']);
    }
    await w.q('INSERT INTO connector_meter_value (evse_pk, transaction_pk, value_timestamp, value, reading_context, measurand, unit) VALUES ?', [rows]);
  }
  console.log(`catch-up: ${ROWS} rows inserted in ${((performance.now() - tIns) / 1000).toFixed(1)} s (${BATCH}-row transactions)`);

  /** A pass's wall time and the process CPU time it used (this process is the only reader; mariadbd is apart). */
  interface Pass {
    readonly wall: number;
    readonly cpu: number;
    /** From the first row to the last: the pass without its start (connection, a reader thread's start-up). */
    readonly stream: number;
  }
  interface Timing {
    readonly wall: number;
    readonly stream: number;
  }
  const timed = async (run: () => Promise<Timing>): Promise<Pass> => {
    const c0 = process.cpuUsage();
    const t = await run();
    const c = process.cpuUsage(c0);
    return { ...t, cpu: (c.user + c.system) / 1e6 };
  };

  /**
   * Bare @vlasky/zongji over the same binlog range. `annotated`: it asks the server for the same stream as the
   * reader, ANNOTATE_ROWS events included (the reader needs a statement's text to tell a reboot with unchanged
   * details from a heartbeat); without, the server leaves those events out.
   */
  const bareOnce = (annotated: boolean): Promise<Timing> =>
    new Promise((resolve, reject) => {
      const z = new ZongJi(binlogOptions(config));
      let rows = 0;
      const t = performance.now();
      let first = 0;
      z.on('error', reject);
      z.on('binlog', (ev: AnyBinlogEvent) => {
        if (ev.getEventName() !== 'writerows') return;
        first ||= performance.now();
        rows += (ev as WriteRowsEvent).rows.length;
        if (rows >= ROWS) {
          const now = performance.now();
          z.stop();
          resolve({ wall: (now - t) / 1000, stream: (now - first) / 1000 });
        }
      });
      z.start({
        serverId: 902,
        gtidSet: startGtid,
        requestAnnotateRows: annotated,
        includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query', 'heartbeat', 'annotaterows'],
        includeSchema: { stevedb: ['connector_meter_value'] },
      });
    });

  const bare = (): Promise<Pass> => timed(() => bareOnce(true));
  const barePlain = (): Promise<Pass> => timed(() => bareOnce(false));
  const ours = (c: CdcConfig, create: typeof createCdcReader = createCdcReader) => (): Promise<Pass> => timed(() => oursOnce(c, create));
  const oursOnce = async (c: CdcConfig, create: typeof createCdcReader): Promise<Timing> => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cb-bench-'));
    await mkdir(path.join(dataDir, 'cdc'));
    await writeFile(path.join(dataDir, 'cdc', 'checkpoint.json'), JSON.stringify({ gtid: startGtid, updatedAt: new Date().toISOString() }));
    const bus = new Bus();
    let rows = 0;
    const t = performance.now();
    let first = 0;
    const done = new Promise<Timing>((resolve) => {
      bus.on('eventInput', (e) => {
        if (e.type !== 'meterValues') return;
        first ||= performance.now();
        rows += e.data.sampledValues.length;
        if (rows >= ROWS) {
          const now = performance.now();
          resolve({ wall: (now - t) / 1000, stream: (now - first) / 1000 });
        }
      });
    });
    const reader = create({ config: { ...c, serverId: 903 }, bus, logger: quiet, dataDir, registry: new Registry() });
    await reader.start();
    const s = await done;
    await reader.stop();
    await rm(dataDir, { recursive: true, force: true });
    return s;
  };

  // Single passes of a few seconds swing by tens of percent on this shared machine: one untimed warm-up pass per
  // side (all start with cold JIT and caches), then several rounds, rotating which side goes first, compared by
  // median. CPU seconds are printed beside wall time: a pass is CPU-bound, so they agree unless the machine took
  // the core away. The ratio that counts is against the bare library reading the same stream as the reader.
  const only = (process.env.CDC_BENCH_SIDES ?? '').split(',').filter(Boolean);
  const sides = [
    { key: 'bare', name: 'bare, same stream', run: bare },
    ...MODES.map((m) => ({ key: m.config.thread ? 'thread' : 'main', name: m.label, run: ours(m.config) })),
    ...(baseReader ? [{ key: 'base', name: `reader at ${BASE} (main thread)`, run: ours(inProcess, baseReader) }] : []),
    { key: 'plain', name: 'bare, no annotations', run: barePlain },
  ].filter((side) => side.key === 'bare' || only.length === 0 || only.includes(side.key));
  for (const side of sides) await side.run();
  const results: Pass[][] = sides.map(() => []);
  const allocated: number[][] = sides.map(() => []);
  const probed = probe();
  const show = (p: Pass): string => `${(ROWS / p.wall).toFixed(0)} rows/s (${p.wall.toFixed(2)} s, ${p.cpu.toFixed(2)} s CPU; first → last row ${p.stream.toFixed(2)} s)`;
  for (let run = 0; run < ROUNDS; run++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + run) % sides.length;
      results[i]!.push(await probed(`${sides[i]!.key}-${run + 1}`, sides[i]!.run, allocated[i]!));
    }
    const b = results[0]![run]!;
    const parts = sides.map((side, i) => {
      const p = results[i]![run]!;
      return i === 0 ? `${side.name} ${show(p)}` : `${side.name} ${show(p)} ${((b.wall / p.wall) * 100).toFixed(0)} %`;
    });
    console.log(`  round ${run + 1}: ${parts.join('  |  ')}`);
  }
  // CPU is the whole process's (a reader thread's included); the bare passes are all in the main thread.
  const medBare = median(results[0]!.map((p) => p.wall));
  const medBareStream = median(results[0]!.map((p) => p.stream));
  console.log(`  median of ${ROUNDS}: bare (same stream) ${(ROWS / medBare).toFixed(0)} rows/s, ${median(results[0]!.map((p) => p.cpu)).toFixed(2)} s CPU`);
  sides.forEach((side, i) => {
    const walls = results[i]!.map((p) => p.wall);
    const med = median(walls);
    const cpu = median(results[i]!.map((p) => p.cpu));
    const slowest = Math.max(...walls);
    const stream = median(results[i]!.map((p) => p.stream));
    // Also the median of each round's own ratio: the two sides of a round ran back to back, so the machine's
    // swings between rounds cancel out more.
    const perRound = median(results[i]!.map((p, r) => results[0]![r]!.wall / p.wall));
    const ratio = i === 0 ? '' : `, ratio to bare (same stream) ${((medBare / med) * 100).toFixed(0)} % (first → last row: ${((medBareStream / stream) * 100).toFixed(0)} %; median of the rounds' ratios ${(perRound * 100).toFixed(0)} %)`;
    console.log(`  ${side.name}: median ${(ROWS / med).toFixed(0)} rows/s (${med.toFixed(2)} s, ${cpu.toFixed(2)} s CPU, first → last row ${stream.toFixed(2)} s)${ratio}; slowest round / median ${(slowest / med).toFixed(2)}`);
  });
  const mainAt = sides.findIndex((side) => side.key === 'main');
  const baseAt = sides.findIndex((side) => side.key === 'base');
  if (mainAt >= 0 && baseAt >= 0) {
    const walls = (i: number): number[] => results[i]!.map((p) => p.wall);
    const perRound = median(results[mainAt]!.map((p, r) => results[baseAt]![r]!.wall / p.wall));
    console.log(`  this reader's rows/s against the reader at ${BASE} (both in the main thread): ${((median(walls(baseAt)) / median(walls(mainAt))) * 100).toFixed(0)} % (median of the rounds' ratios ${(perRound * 100).toFixed(0)} %)`);
  }
  if (allocated[0]!.length > 0) {
    sides.forEach((side, i) => console.log(`  ${side.name}: allocated per row, median ${(median(allocated[i]!) / ROWS).toFixed(0)} bytes (${allocated[i]!.map((b) => (b / ROWS).toFixed(0)).join(', ')})`));
  }
} finally {
  await w.close();
  await server.stop();
}
process.exit(0);
