// The reader in its own thread: a thread that dies is started again from the last saved checkpoint (counted in
// health, nothing lost), and a checkpoint is saved only after the events before it are on the main thread's bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Checkpoint } from '../../src/cdc/checkpoint.js';
import { createCdcReader, parseCdcConfig } from '../../src/cdc/index.js';
import type { CheckpointPort } from '../../src/cdc/reader.js';
import { ThreadedReader } from '../../src/cdc/threaded.js';
import { Bus } from '../../src/events/bus.js';
import type { EventInput } from '../../src/events/catalogue.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { makeReader, tempDir } from './harness.js';
import { SteveWriter } from './steve-writes.js';

let server: PrivateMariadb;
beforeAll(async () => {
  server = await startMariadb();
});
afterAll(async () => {
  await server?.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ts = (n: number): string => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
/** Sequence number of a MariaDB GTID ("0-1-42" → 42). */
const seq = (gtid: string): number => Number(gtid.split('-').at(-1));

describe('binlog reader thread', () => {
  it('a crashed reader thread is started again from the checkpoint: counted in health, 0 rows lost', async () => {
    const url = await createSteveDatabase(server, { database: 'crash_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'crash_db', '3.13');
    await w.addStation('CB1');
    const rig = makeReader(url, await tempDir(), { CDC_READER_THREAD: 'on' });
    expect(rig.reader).toBeInstanceOf(ThreadedReader);
    await rig.reader.start();
    await rig.waitFor(() => rig.reader.health().state === 'streaming');
    let n = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        await w.statusNotification('CB1', 1, 'Charging', 'NoError', { timestamp: ts(n++) });
        await sleep(3);
      }
    })();
    await rig.waitFor(() => rig.ofType('status').length >= 50);
    await (rig.reader as ThreadedReader).crashThread();
    await rig.waitFor(() => rig.reader.health().restarts === 1);
    expect(rig.reader.health().lastError?.message).toMatch(/thread exited/);
    await rig.waitFor(() => rig.reader.health().state === 'streaming', 30_000);
    const after = rig.ofType('status').length;
    await rig.waitFor(() => rig.ofType('status').length >= after + 50, 30_000);
    stop = true;
    await writer;
    await rig.waitFor(() => rig.ofType('status').length >= n, 10_000);
    const seen = rig.ofType('status').map((e) => e.timestamp);
    expect([...new Set(seen)].sort()).toEqual(Array.from({ length: n }, (_, i) => ts(i)).sort());
    // A repeated transaction is the same event: its id is the same.
    const ids = new Map<string, string>();
    for (const e of rig.ofType('status')) expect(ids.get(e.timestamp) ?? e.id).toBe((ids.set(e.timestamp, e.id), e.id));
    expect(rig.logs.some((l) => l.msg === 'binlog reader thread died; starting it again from the checkpoint')).toBe(true);
    console.log(`reader thread crash: ${n} rows, ${seen.length} status events (${seen.length - new Set(seen).size} repeats), 0 lost`);
    await rig.reader.stop();
    expect(rig.reader.health().state).toBe('stopped');
    await w.close();
  }, 90_000);

  it('saves a checkpoint only after the events before it are on the bus', async () => {
    const url = await createSteveDatabase(server, { database: 'order_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'order_db', '3.13');
    await w.addStation('CB1');
    const config = parseCdcConfig({ STEVE_DB_URL: url, CDC_SERVER_ID: '7301', CDC_HEARTBEAT_MS: '1000', CDC_READER_THREAD: 'on' })!;
    const events: EventInput[] = [];
    const saves: { cp: Checkpoint; seen: number }[] = [];
    let saved: Checkpoint | undefined;
    const checkpoints: CheckpointPort = {
      file: 'memory',
      load: () => saved,
      save(cp) {
        saved = cp;
        saves.push({ cp, seen: events.length });
      },
      flush: async () => undefined,
      close: () => undefined,
    };
    const bus = new Bus();
    bus.on('eventInput', (e) => events.push(e));
    const reader = createCdcReader({ config, bus, logger: pino({ level: 'silent' }), dataDir: await tempDir(), registry: new Registry(), checkpoints });
    await reader.start();
    while (reader.health().state !== 'streaming') await sleep(20);
    for (let i = 0; i < 100; i++) await w.statusNotification('CB1', 1, 'Charging', 'NoError', { timestamp: ts(i) });
    while (events.filter((e) => e.type === 'status').length < 100) await sleep(20);
    await reader.stop();
    const withGtid = saves.filter((s) => s.cp.gtid !== undefined);
    expect(withGtid.length).toBeGreaterThan(10);
    for (const { cp, seen } of withGtid) {
      // Every event handed on after this save belongs to a later transaction than the one saved.
      for (const e of events.slice(seen)) if (e.type === 'status') expect(seq(e.id.split(':')[1]!)).toBeGreaterThan(seq(cp.gtid!));
      // ...and the saved transaction's own events were on the bus before it.
      const own = events.filter((e) => e.type === 'status' && seq(e.id.split(':')[1]!) === seq(cp.gtid!));
      for (const e of own) expect(events.indexOf(e)).toBeLessThan(seen);
    }
    expect(reader.health().position.gtid).toBe(saved?.gtid);
    await w.close();
  }, 60_000);
});
