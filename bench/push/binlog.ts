// Push benchmark from the database: binlog commit → Socket.IO client receipt latency (p50/p99), the issue's
// "p99 < 5 ms from binlog commit with 1,000 clients". A private mariadbd (SteVe 3.13 schema, binlog on) takes
// single-row connector_status INSERTs (autocommit, as SteVe writes them); the real binlog reader, event model and
// push server run in this process on a real HTTP server; clients run in two child processes (clients.ts).
//  a. own station:  N stations, client i watches station i; commits round-robin over the stations at --rate tx/s.
//  b. one station:  all N clients watch one station; commits at --fanout-rate tx/s (fan-out worst case).
// Each row carries a unique error_info (→ event data.info) as its key. The INSERTs come from a writer child
// process standing in for SteVe, so a commit's OK is timestamped when it arrives, not after this process's
// fan-out work. The bus arrival is timed too, so the push share of the latency is visible.
//   npm run bench:push-binlog
//   npx tsx bench/push/binlog.ts --clients 1000 --rate 200 --fanout-rate 10 --seconds 10 [--rounds 3] [--only own|one]
//     [--reader-thread [--worker-young-mb 48]]   (the experiment in reader-thread.ts)
// The reader runs as the gateway runs it (in the main thread, or in its own with CDC_READER_THREAD=on; CDC_THREAD_YOUNG_MB).
// The own-station scenario runs --rounds rounds, each a floor pass and a gateway pass in alternating order (the floor
// writes to a database of its own, which the gateway's reader does not follow); each round's ratios of the gateway's
// p50 and p99 to the floor's are printed, then their medians (the issue's figure). The bench process runs
// with the gateway's V8 flags (src/node-flags.ts) unless started with a young-generation flag of its own.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createCdcReader, parseCdcConfig, type CdcConfig } from '../../src/cdc/index.js';
import { Bus } from '../../src/events/bus.js';
import { createEventModel } from '../../src/events/index.js';
import { SteveWriter, sqlTime } from '../../test/cdc/steve-writes.js';
import { createSteveDatabase, startMariadb } from '../../test/support/mariadb.js';
import { arg, ask, cpuSeconds, median, percentile, wall, withGatewayFlags } from '../lib/proc.js';
import type { Receipt } from './clients.js';
import { startReaderThread } from './reader-thread.js';
import { startBenchPush } from './server.js';

const WORKERS = 2;

/** The reader-thread settings of this process's environment, for the reader's config. */
function threadEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['CDC_READER_THREAD', 'CDC_THREAD_YOUNG_MB']) if (process.env[k] !== undefined) out[k] = process.env[k]!;
  return out;
}
const DATABASE = 'stevedb';
/** The floor's rows go here: the gateway's reader follows DATABASE only, so a floor pass costs it next to nothing. */
const FLOOR_DATABASE = 'floordb';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ms = (v: number): string => v.toFixed(2);

interface Row { key: string; evsePk: number }
type WriterMsg = { cmd: 'write'; socket: string; database: string; rows: Row[]; rate: number } | { cmd: 'close' };
/** [key, INSERT sent, OK received], wall clock. */
type Written = [string, number, number];

const forkTs = (file: string, args: string[] = []): ChildProcess =>
  fork(file, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

/** The writer child: SteVe's side, paced single-row autocommit INSERTs on one connection. */
function runWriter(): void {
  const conns = new Map<string, mysql.Connection>();
  process.on('message', (raw: unknown) => {
    const msg = raw as WriterMsg;
    void (async () => {
      if (msg.cmd === 'close') {
        for (const c of conns.values()) await c.end();
        process.exit(0);
      }
      let conn = conns.get(msg.database);
      if (!conn) {
        conn = await mysql.createConnection({ socketPath: msg.socket, user: 'root', database: msg.database });
        await conn.query("SET time_zone = '+00:00'");
        conns.set(msg.database, conn);
      }
      const written: Written[] = [];
      const start = performance.now();
      for (const [i, row] of msg.rows.entries()) {
        const wait = start + (i * 1000) / msg.rate - performance.now();
        if (wait > 1) await sleep(wait);
        const sent = wall();
        await conn.query("INSERT INTO connector_status (evse_pk, status_timestamp, status, error_code, error_info) VALUES (?, ?, 'Charging', 'NoError', ?)", [
          row.evsePk, sqlTime(new Date()), row.key,
        ]);
        written.push([row.key, sent, wall()]);
      }
      process.send?.({ kind: 'written', written, seconds: (performance.now() - start) / 1000 });
    })();
  });
}

async function runBench(): Promise<void> {
  const clients = arg('clients', 1000);
  const rate = arg('rate', 200);
  const fanoutRate = arg('fanout-rate', 10);
  const seconds = arg('seconds', 10);
  const rounds = arg('rounds', 3);
  // --only own | one: run a single scenario (for profiling one shape).
  const only = process.argv[process.argv.indexOf('--only') + 1];
  const runs = (name: 'own' | 'one'): boolean => !process.argv.includes('--only') || only === name;

  // Temp dirs go even when the deadline aborts the run (mariadb.ts SIGKILLs mariadbd on exit first).
  const temp: string[] = [];
  process.once('exit', () => {
    for (const d of temp) rmSync(d, { recursive: true, force: true });
  });
  const fail = (message: string): never => {
    console.error(`push-binlog bench: ${message}`);
    process.exit(1);
  };
  setTimeout(() => fail(`exceeded ${120 + rounds * 60} s, aborting`), (120 + rounds * 60) * 1000).unref();
  console.log(`push-binlog bench on ${os.cpus().length} cores, node ${process.version}, ${clients} clients in ${WORKERS} processes`);

  // ---- database, stations ----------------------------------------------------------------------------------
  const db = await startMariadb();
  temp.push(db.dir);
  const mariadbPid = Number(readFileSync(path.join(db.dir, 'mysqld.pid'), 'utf8').trim());
  const dbUrl = await createSteveDatabase(db, { database: DATABASE, generation: '3.13' });
  const floorUrl = await createSteveDatabase(db, { database: FLOOR_DATABASE, generation: '3.13' });
  const stations = Array.from({ length: clients }, (_, i) => `BENCH${i}`);
  /** evse_pk per database and station (the two databases number them alike, but nothing here assumes it). */
  const evsePk = new Map<string, Map<string, number>>();
  for (const database of [DATABASE, FLOOR_DATABASE]) {
    const w = await SteveWriter.open(db, database, '3.13');
    const pks = new Map<string, number>();
    for (const id of stations) {
      await w.addStation(id);
      pks.set(id, await w.tx(() => w.insertIgnoreConnector(id, 1)));
    }
    evsePk.set(database, pks);
    await w.close();
  }
  const pkOf = (database: string, station: string): number => evsePk.get(database)!.get(station)!;

  const writer = forkTs(import.meta.filename, ['--as-writer']);
  const write = (database: string, rows: Row[], txPerS: number): Promise<{ written: Written[]; seconds: number }> =>
    ask(writer, { cmd: 'write', socket: db.socket, database, rows, rate: txPerS }, 'written');
  let keys = 0;

  // ---- the floor: bare library → one ws hop → client, same writer and rate, its own database ------------------
  async function floorPass(round: number): Promise<{ p50: number; p99: number }> {
    // The gateway's reader would follow the floor's transactions too (it skips their rows, but each one moves its
    // binlog position and checkpoint): measured at 0.3–0.5 ms of CPU per floor commit, on the floor's two cores. It
    // stops for the floor's pass and starts again from its checkpoint after it (restart() below).
    await reader?.stop();
    reader = undefined;
    const chain = path.join(import.meta.dirname, 'floor-chain.ts');
    const follower = forkTs(chain, ['--follow', floorUrl]);
    const { port } = await new Promise<{ port: number }>((r) => follower.once('message', (m) => r(m as { port: number })));
    const receiver = forkTs(chain, ['--receive', String(port)]);
    await new Promise((r) => receiver.once('message', r));
    const rows: Row[] = Array.from({ length: Math.round(rate * seconds) }, (_, i) => ({ key: `f${++keys}`, evsePk: pkOf(FLOOR_DATABASE, stations[i % stations.length]!) }));
    const cpu0 = cpuSeconds(follower.pid!);
    const own0 = process.cpuUsage();
    const done = await write(FLOOR_DATABASE, rows, rate);
    await sleep(1000);
    const cpuMs = (cpuSeconds(follower.pid!) - cpu0) * 1000;
    // The gateway stays up meanwhile (its clients connected, its reader skipping the floor's database): its share
    // of the machine during the floor's pass, printed so that it can be weighed.
    const own = process.cpuUsage(own0);
    const { receipts } = await ask<{ receipts: Receipt[] }>(receiver, { cmd: 'report' }, 'report');
    for (const c of [follower, receiver]) {
      c.send({ cmd: 'close' });
      await new Promise((r) => c.once('exit', r));
    }
    const acked = new Map(done.written.map(([key, , at]) => [key, at]));
    const fromAck = receipts.flatMap(([key, at]) => (acked.has(key) ? [at - acked.get(key)!] : [])).sort((a, b) => a - b);
    console.log(
      `round ${round} floor: bare @vlasky/zongji → one bare ws hop → client, ${done.written.length} commits at ${(done.written.length / done.seconds).toFixed(0)} tx/s, ` +
        `${fromAck.length}/${done.written.length} receipts\n` +
        `  commit ack → client receipt:  p50 ${ms(percentile(fromAck, 50))} ms, p99 ${ms(percentile(fromAck, 99))} ms, max ${ms(fromAck.at(-1) ?? NaN)} ms\n` +
        `  CPU per commit: follower process (library + ws) ${ms(cpuMs / done.written.length)} ms; the idle gateway meanwhile ${ms((own.user + own.system) / 1000 / done.written.length)} ms`,
    );
    if (fromAck.length < done.written.length) fail(`floor round ${round}: ${done.written.length - fromAck.length} receipts missing`);
    // Back from its checkpoint: the floor's transactions are read past before the gateway's next pass begins.
    reader = await startReader();
    await sleep(1000);
    return { p50: percentile(fromAck, 50), p99: percentile(fromAck, 99) };
  }

  // ---- gateway: reader → bus → event model → push ------------------------------------------------------------
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-push-binlog-'));
  temp.push(dataDir);
  const logger = pino({ level: 'silent' });
  const bus = new Bus();
  const model = createEventModel({ bus, dataDir, logger, binlogConfigured: true });
  await model.start();
  const onBus = new Map<string, number>(); // row key → when its sequenced event was on the bus (before push sees it)
  bus.on('event', (ev) => {
    if (ev.type === 'status' && ev.data.info !== undefined) onBus.set(ev.data.info, wall());
  });
  // --reader-thread [--worker-young-mb N]: the experiment in reader-thread.ts instead of the gateway's in-process reader.
  const startReader = (): Promise<{ stop(): Promise<void> }> =>
    process.argv.includes('--reader-thread')
      ? startReaderThread(bus, { dbUrl, dataDir }, arg('worker-young-mb', 0) || undefined).catch((err: unknown) => fail(`the threaded reader did not start: ${String(err)}`))
      : startInProcessReader();
  let reader: { stop(): Promise<void> } | undefined = await startReader();
  async function startInProcessReader(): Promise<{ stop(): Promise<void> }> {
    const r = createCdcReader({
      config: parseCdcConfig({ STEVE_DB_URL: dbUrl, CDC_SERVER_ID: '911', ...threadEnv() }) as CdcConfig,
      bus, logger, dataDir, registry: new Registry(),
    });
    await r.start().catch((err: unknown) => fail(`the binlog reader did not start: ${String(err)}`));
    for (const until = Date.now() + 30_000; r.health().state !== 'streaming'; await sleep(20)) {
      if (Date.now() > until) {
        const h = r.health();
        fail(`the binlog reader never reached 'streaming' (state ${h.state}, last error: ${h.lastError?.message ?? 'none'})`);
      }
    }
    return r;
  }

  const { push, url, token, stop: stopPush } = await startBenchPush({ bus, model, dataDir, logger });

  // ---- one scenario: clients connect once, then one gateway pass per round ---------------------------------
  interface Clients { readonly children: ChildProcess[]; readonly connected: number; readonly failed: number; readonly connectS: number; readonly watchers: Map<string, number> }
  async function connectClients(watch: readonly string[]): Promise<Clients> {
    const t0 = performance.now();
    const children = Array.from({ length: WORKERS }, () => forkTs(path.join(import.meta.dirname, 'clients.ts')));
    const per = Math.ceil(watch.length / WORKERS);
    const ready = await Promise.all(
      children.map((c, i) => ask<{ connected: number; failed: number }>(c, { cmd: 'start', url, token, stations: watch.slice(i * per, (i + 1) * per) }, 'ready')),
    );
    const connectS = (performance.now() - t0) / 1000;
    await sleep(1000); // subscription snapshots and summaries out of the way
    const watchers = new Map<string, number>();
    for (const id of watch) watchers.set(id, (watchers.get(id) ?? 0) + 1);
    return { children, connected: ready.reduce((a, r) => a + r.connected, 0), failed: ready.reduce((a, r) => a + r.failed, 0), connectS, watchers };
  }
  async function closeClients({ children }: Clients): Promise<void> {
    for (const c of children) c.send({ cmd: 'close' });
    await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  }

  /** One gateway pass; the receipts' percentiles, or undefined when receipts are missing. */
  async function gatewayPass(name: string, clients: Clients, targets: readonly string[], txPerS: number, passSeconds = seconds): Promise<{ p50: number; p99: number } | undefined> {
    const { children, watchers } = clients;
    // Alphanumeric keys: SteVe HTML-encodes stored strings, and the key must come back unchanged.
    const plan = Array.from({ length: Math.round(txPerS * passSeconds) }, (_, i) => ({ key: `k${++keys}`, station: targets[i % targets.length]! }));
    // BENCH_ALLOC_PROFILE=1: everything this process allocates during the writes, as a sampling heap profile
    // (sum it up with bench/lib/alloc-report.mjs).
    const heap = process.env.BENCH_ALLOC_PROFILE ? new Session() : undefined;
    heap?.connect();
    heap?.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    const cpu0 = process.cpuUsage();
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const gcPauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push(e.duration);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const db0 = cpuSeconds(mariadbPid);
    const rows: Row[] = plan.map((p) => ({ key: p.key, evsePk: pkOf(DATABASE, p.station) }));
    const done = await write(DATABASE, rows, txPerS);
    // Every row on the bus, then a second for the last fan-out to land in the clients.
    for (const until = Date.now() + 10_000; plan.some((p) => !onBus.has(p.key)) && Date.now() < until; ) await sleep(20);
    await sleep(1000);
    const cpu = process.cpuUsage(cpu0);
    heap?.post('HeapProfiler.stopSampling', (err, result) => {
      const file = `/tmp/chargebridge-push-alloc-${process.pid}-${name.replace(/\W+/g, '-')}.heapprofile`;
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
      console.log(err ? `heap profile failed: ${err.message}` : `heap profile: ${file}`);
    });
    loop.disable();
    gcObserver.disconnect();
    gcPauses.sort((a, b) => a - b);
    const dbCpuMs = (cpuSeconds(mariadbPid) - db0) * 1000;

    // Receipts are handed over and forgotten by the clients at each report: a pass sees only its own.
    const receipts = (await Promise.all(children.map((c) => ask<{ receipts: Receipt[] }>(c, { cmd: 'report' }, 'report')))).flatMap((r) => r.receipts);
    const times = new Map(done.written.map(([key, sent, acked]) => [key, { sent, acked }]));
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    for (const [key, at] of receipts) {
      const t = times.get(key);
      if (!t) continue; // not one of this pass's rows
      fromAck.push(at - t.acked);
      fromSend.push(at - t.sent);
    }
    const toBus: number[] = [];
    for (const [key, t] of times) {
      const at = onBus.get(key);
      if (at !== undefined) toBus.push(at - t.acked);
    }
    for (const list of [fromAck, fromSend, toBus]) list.sort((a, b) => a - b);
    const expected = plan.reduce((a, p) => a + (watchers.get(p.station) ?? 0), 0);
    const commits = done.written.length;
    const stats = push.stats();

    console.log(
      `${name}: ${watchers.size === 1 ? `${clients.connected} clients on one station` : `${clients.connected} clients`} (${clients.failed} failed, connect ${clients.connectS.toFixed(1)} s), ` +
        `${commits} commits at ${(commits / done.seconds).toFixed(0)} tx/s over ${new Set(targets).size} station(s), ` +
        `${fromAck.length}/${expected} receipts, ${toBus.length}/${commits} on the bus\n` +
        `  commit ack → client receipt:  p50 ${ms(percentile(fromAck, 50))} ms, p99 ${ms(percentile(fromAck, 99))} ms, max ${ms(fromAck.at(-1) ?? NaN)} ms\n` +
        `  INSERT sent → client receipt: p50 ${ms(percentile(fromSend, 50))} ms, p99 ${ms(percentile(fromSend, 99))} ms\n` +
        `  commit ack → event on the bus (in-process): p50 ${ms(percentile(toBus, 50))} ms, p99 ${ms(percentile(toBus, 99))} ms, max ${ms(toBus.at(-1) ?? NaN)} ms\n` +
        `  CPU per commit: gateway process (reader + model + push) ${ms((cpu.user + cpu.system) / 1000 / commits)} ms, mariadbd ${ms(dbCpuMs / commits)} ms\n` +
        `  gateway event loop: delay p99 ${ms(loop.percentile(99) / 1e6)} ms, max ${ms(loop.max / 1e6)} ms; GC pauses ${gcPauses.length}, ` +
        `p99 ${ms(percentile(gcPauses, 99))} ms, max ${ms(gcPauses.at(-1) ?? NaN)} ms, total ${ms(gcPauses.reduce((a, b) => a + b, 0))} ms\n` +
        `  push counters so far: pushed ${stats.pushed.events} events, lost to gaps ${stats.dropped.eventsDropped}, slow disconnects ${stats.disconnects.slowConsumer}`,
    );
    if (clients.failed > 0 || fromAck.length < expected) {
      console.error(`push-binlog bench: ${name}: ${expected - fromAck.length} of ${expected} receipts missing (${clients.failed} clients failed to connect)`);
      return undefined;
    }
    return { p50: percentile(fromAck, 50), p99: percentile(fromAck, 99) };
  }

  /** Rounds of a floor pass and a gateway pass, the order alternating (floor first in odd rounds). */
  async function ownScenario(): Promise<boolean> {
    // One floor pass before the clients connect: the floor as the single-pass bench measured it (nothing of ours
    // alive), printed beside the rounds' so that the effect of 1,000 idle connections on the floor can be seen.
    const bare = await floorPass(0);
    const c = await connectClients(stations);
    const floors: { p50: number; p99: number }[] = [];
    const gateways: { p50: number; p99: number }[] = [];
    let ok = true;
    try {
      // Untimed: the first events after 1,000 clients connected grow the old generation (one mark-compact of
      // 20–30 ms measured in that pass), a start-up cost the rounds should not carry, as the other benches warm up.
      ok = (await gatewayPass('warm-up (not counted)', c, stations, rate, 3)) !== undefined;
      for (let r = 1; r <= rounds && ok; r++) {
        const floorFirst = r % 2 === 1 ? await floorPass(r) : undefined;
        const gateway = await gatewayPass(`round ${r} gateway, own station`, c, stations, rate);
        const floor = floorFirst ?? (await floorPass(r));
        if (!gateway) ok = false;
        else {
          console.log(`  round ${r}: ratio to its floor p50 ${(gateway.p50 / floor.p50).toFixed(2)}×, p99 ${(gateway.p99 / floor.p99).toFixed(2)}×`);
          floors.push(floor);
          gateways.push(gateway);
        }
      }
    } finally {
      await closeClients(c);
    }
    const ratios = gateways.map((g, i) => ({ p50: g.p50 / floors[i]!.p50, p99: g.p99 / floors[i]!.p99 }));
    if (ratios.length > 0) {
      const p99 = median(ratios.map((x) => x.p99));
      console.log(
        `floor p99 before the clients connected ${ms(bare.p99)} ms, in the rounds ${floors.map((f) => ms(f.p99)).join(', ')} ms; ` +
          `gateway p99 in the rounds ${gateways.map((g) => ms(g.p99)).join(', ')} ms (median ${ms(median(gateways.map((g) => g.p99)))} ms = ${(median(gateways.map((g) => g.p99)) / bare.p99).toFixed(2)}× the floor before the clients connected)`,
      );
      console.log(
        `own station, ${ratios.length} round(s): gateway p99 / floor p99 per round ${ratios.map((x) => `${x.p99.toFixed(2)}×`).join(', ')}; ` +
          `median p50 ${median(ratios.map((x) => x.p50)).toFixed(2)}×, median p99 ${p99.toFixed(2)}× (target p99 ≤ 1.25×: ${p99 <= 1.25 ? 'met' : 'NOT met'})`,
      );
    }
    return ok;
  }

  async function oneStationScenario(): Promise<boolean> {
    const c = await connectClients(Array<string>(clients).fill(stations[0]!));
    try {
      return (await gatewayPass('one station', c, [stations[0]!], fanoutRate)) !== undefined;
    } finally {
      await closeClients(c);
    }
  }

  let ok = false;
  try {
    const own = !runs('own') || (await ownScenario());
    const one = !runs('one') || (await oneStationScenario());
    ok = own && one;
  } finally {
    if (writer.connected) {
      writer.send({ cmd: 'close' });
      await new Promise((r) => writer.once('exit', r));
    }
    await stopPush();
    await reader?.stop();
    await model.stop();
    await db.stop();
  }
  process.exit(ok ? 0 : 1);
}

if (process.argv.includes('--as-writer')) runWriter();
else {
  withGatewayFlags();
  await runBench();
}
