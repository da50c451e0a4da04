// Message-log benchmark: ingest N entries (default 1,000,000) into one day file through the bus, then time
// start-up, queries and an index rebuild on it. Run: npx tsx bench/log/query-bench.ts [N]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Bus } from '../../src/events/bus.js';
import type { FrameObservation } from '../../src/events/observations.js';
import { createMessageLog, type MessageLog, type MessageQuery } from '../../src/log/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const STATIONS = 1000;
const DAY_START_US = Date.parse('2025-03-01T00:00:00Z') * 1000;
const STEP_US = Math.floor(86_000_000_000 / N); // all N inside one UTC day
const now = (): number => Date.parse('2025-03-01T23:59:00Z');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-logbench-'));
const logger = pino({ level: 'silent' });

function makeObservation(i: number): FrameObservation {
  const station = `CP${i % STATIONS}`;
  const common = { atUs: DAY_START_US + i * STEP_US, chargeBoxId: station, linkKind: 'ws' as const, messageId: `m${Math.floor(i / 2)}` };
  if (i % 2 === 1) {
    return { ...common, leg: 'upstream', direction: 'in', origin: 'steve', disposition: 'forwarded', messageType: 'CALLRESULT', action: 'MeterValues', raw: JSON.stringify([3, common.messageId, {}]), rttMs: 1.5 };
  }
  // One CALL in 1,000 breaks the schema (a rare finding).
  const bad = i % 2000 === 0;
  const payload = {
    connectorId: 1,
    transactionId: 1000 + (i % 97),
    meterValue: [{ timestamp: '2025-03-01T12:00:00Z', sampledValue: [
      { value: String(i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
      { value: '16.1', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
      { value: bad ? 'x' : '230.0', measurand: bad ? 'Bogus' : 'Voltage', unit: 'V' },
    ] }],
  };
  return { ...common, leg: 'station', direction: 'in', origin: 'station', disposition: 'forwarded', messageType: 'CALL', action: 'MeterValues', raw: JSON.stringify([2, common.messageId, 'MeterValues', payload]) };
}

// Frames are built once (4,000 distinct ones, one finding among them) so the event-loop figures show the log's work,
// not the benchmark's; only the time moves.
const POOL = Array.from({ length: 4000 }, (_, i) => makeObservation(i));
const observation = (i: number): FrameObservation => ({ ...(POOL[i % POOL.length] as FrameObservation), atUs: DAY_START_US + i * STEP_US });

const fmt = (ms: number): string => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function open(bus: Bus): MessageLog {
  return createMessageLog({ bus, dataDir, retentionDays: 30, queueLimit: 100_000, logger, registry: new Registry(), now });
}

async function ingest(): Promise<void> {
  const bus = new Bus();
  const log = open(bus);
  await log.start();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; ) {
    // Emit the way the relay's frame tap does: a burst per turn of the event loop, then yield.
    const end = Math.min(N, i + 500);
    for (; i < end; i++) bus.emit('frame', observation(i));
    while (log.stats().queued > 20_000) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setImmediate(r));
  }
  delay.disable(); // stop() below numbers what is still queued in one go; that is shutdown, not relay time
  await log.stop();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const { written, dropped } = log.stats();
  const file = path.join(dataDir, 'messages', '2025-03-01.jsonl');
  console.log(`ingest: ${written} entries in ${fmt(ms)} = ${Math.round(written / (ms / 1000))} entries/s, dropped ${dropped}`);
  console.log(`  CPU ${((cpu.user + cpu.system) / written).toFixed(1)} µs per entry (user+system, whole process)`);
  console.log(`  event-loop delay while ingesting: p50 ${(delay.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(2)} ms, max ${(delay.max / 1e6).toFixed(2)} ms`);
  console.log(`  day file ${mb(statSync(file).size)}, index ${mb(statSync(file.replace('.jsonl', '.v1.idx')).size)}`);
}

/**
 * The relay's view: frames at a steady 4,000/s (1,000 stations, one CALL per second, 4 frames per round trip),
 * 40 every 10 ms; the event-loop delay shows how long the log's turns hold up everything else. Run with and without the log.
 */
async function paced(withLog: boolean): Promise<void> {
  const bus = new Bus();
  const log = open(bus);
  if (withLog) await log.start();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const cpu0 = process.cpuUsage();
  delay.enable();
  const seconds = 5;
  for (let tick = 0; tick < seconds * 100; tick++) {
    for (let k = 0; k < 40; k++) bus.emit('frame', observation(tick * 40 + k));
    await new Promise((r) => setTimeout(r, 10));
  }
  delay.disable();
  const cpu = process.cpuUsage(cpu0);
  if (withLog) await log.stop();
  const q = (p: number): string => (delay.percentile(p) / 1e6).toFixed(2);
  console.log(`  ${withLog ? 'with the log   ' : 'without the log'}: event-loop delay p50 ${q(50)} ms, p99 ${q(99)} ms, max ${(delay.max / 1e6).toFixed(2)} ms; CPU ${(((cpu.user + cpu.system) / 1e6 / seconds) * 100).toFixed(1)} % of a core`);
}

async function timeStart(label: string): Promise<MessageLog> {
  const log = open(new Bus());
  const t0 = performance.now();
  await log.start();
  console.log(`${label}: ${fmt(performance.now() - t0)}`);
  return log;
}

async function timeQuery(log: MessageLog, label: string, q: MessageQuery, runs = 15): Promise<void> {
  const times: number[] = [];
  let count = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    count = (await log.query(q)).entries.length;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`  ${label.padEnd(52)} ${String(count).padStart(4)} rows  median ${fmt(times[Math.floor(runs / 2)] ?? 0).padStart(9)}  max ${fmt(times.at(-1) ?? 0).padStart(9)}`);
}

console.log('steady 4,000 frames/s for 5 s:');
await paced(false);
await paced(true);
rmSync(path.join(dataDir, 'messages'), { recursive: true, force: true });
await ingest();
const log = await timeStart('start-up with a valid index');
console.log(`queries on ${N} entries (limit 100 unless noted, ${15} runs each):`);
await timeQuery(log, 'newest page, no filter', {});
await timeQuery(log, 'newest page, one station of 1000', { chargeBoxId: ['CP517'] });
await timeQuery(log, 'page at the middle (cursor)', { cursor: String(Math.floor(N / 2)) });
await timeQuery(log, 'one station, page at the middle (cursor)', { chargeBoxId: ['CP517'], cursor: String(Math.floor(N / 2)) });
await timeQuery(log, 'hasFindings (1 in 2000 entries)', { hasFindings: true });
await timeQuery(log, '1-minute window at noon', { sinceUs: DAY_START_US + 12 * 3_600_000_000, untilUs: DAY_START_US + 12 * 3_600_000_000 + 60_000_000, limit: 1000 });
await timeQuery(log, 'no match (full index scan)', { chargeBoxId: ['nope'] }, 5);
{
  const t0 = performance.now();
  let n = 0;
  for await (const _ of log.entries({ chargeBoxId: ['CP42'] })) n++;
  console.log(`  ${'export one station (all its entries)'.padEnd(52)} ${String(n).padStart(4)} rows  ${fmt(performance.now() - t0)}`);
}
await log.stop();
rmSync(path.join(dataDir, 'messages', '2025-03-01.v1.idx'));
const rebuilt = await timeStart('start-up rebuilding a deleted index');
await rebuilt.stop();
console.log(`rss ${mb(process.memoryUsage().rss)}`);
rmSync(dataDir, { recursive: true, force: true });
