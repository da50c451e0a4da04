// Nothing lost: gateway restarts (clean and kill -9), mariadbd kill -9, purged binlog, rotation, schema change,
// dead connections. Ground truth is always the database itself.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCdcConfig } from '../../src/cdc/config.js';
import { createQueryPool } from '../../src/cdc/db.js';
import { NAMING } from '../../src/cdc/schema.js';
import { takeSnapshot } from '../../src/cdc/snapshot.js';
import { Topology } from '../../src/cdc/topology.js';
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

/** Distinct timestamps per row make every status row identifiable in the events. */
function ts(n: number): string {
  return new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
}

/** Writes a status row on a fresh connector of CB1 every few ms, from connector `first` on; stop() gives the last one. */
function keepWriting(w: SteveWriter, first: number): { stop(): Promise<number> } {
  let c = first;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await w.statusNotification('CB1', c, 'Available', 'NoError', { timestamp: ts(c) });
      c += 1;
      await sleep(2);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return c - 1;
    },
  };
}

async function dbStatusTimes(w: SteveWriter): Promise<string[]> {
  const rows = await w.q<{ t: string }[]>('SELECT status_timestamp AS t FROM connector_status ORDER BY status_timestamp');
  return rows.map((r) => `${r.t.replace(' ', 'T').slice(0, 23)}Z`);
}

describe('gateway restarts', () => {
  it('clean restart: rows written while down arrive once, across a rotation, without a new snapshot', async () => {
    const url = await createSteveDatabase(server, { database: 'restart_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'restart_db', '3.13');
    await w.addStation('CB1');
    const dataDir = await tempDir();
    const a = makeReader(url, dataDir);
    await a.reader.start();
    for (let i = 0; i < 20; i++) await w.statusNotification('CB1', 1, 'Available', 'NoError', { timestamp: ts(i) });
    await a.waitFor(() => a.ofType('status').length === 20);
    await a.reader.stop();
    for (let i = 20; i < 50; i++) {
      await w.statusNotification('CB1', 1 + (i % 3), 'Charging', 'NoError', { timestamp: ts(i) });
      if (i === 35) await server.query('FLUSH BINARY LOGS');
    }
    const b = makeReader(url, dataDir);
    await b.reader.start();
    await b.waitFor(() => b.ofType('status').length === 30);
    await sleep(300);
    expect(b.ofType('resync')).toHaveLength(0);
    const seen = [...a.ofType('status'), ...b.ofType('status')].map((e) => e.timestamp).sort();
    expect(seen).toEqual(await dbStatusTimes(w));
    const ids = [...a.events, ...b.events].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    await b.reader.stop();
    await w.close();
  });

  it('kill -9 of the gateway mid-bulk: 0 lost; repeats only from the transactions of the last event-loop turn, with identical ids', async () => {
    const url = await createSteveDatabase(server, { database: 'crash_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'crash_db', '3.13');
    await w.addStation('CB1');
    const pk = await w.tx(() => w.insertIgnoreConnector('CB1', 1));
    const dataDir = await tempDir();
    const out = path.join(dataDir, 'events.jsonl');
    const env = { ...process.env, STEVE_DB_URL: url, CDC_SERVER_ID: '777', DATA_DIR: dataDir, OUT: out, CDC_HEARTBEAT_MS: '1000' };
    const child = (): ReturnType<typeof spawn> =>
      spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'reader-child.ts')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    // Complete lines only: read while the child appends, the file can end in the middle of one.
    const lines = (): { id: string; type: string; turn: number }[] => {
      if (!existsSync(out)) return [];
      const text = readFileSync(out, 'utf8');
      return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; type: string; turn: number });
    };
    const waitLines = async (pred: (n: number) => boolean, ms = 20_000): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!pred(lines().length)) {
        if (Date.now() > deadline) throw new Error(`only ${lines().length} lines`);
        await sleep(10);
      }
    };

    const first = child();
    await new Promise((r) => first.stdout!.once('data', r));
    // 60 transactions of 40 samples each (40 meterValues events per transaction).
    const TX = 60;
    const PER = 40;
    const writing = (async () => {
      for (let t = 0; t < TX; t++) {
        await w.tx(() => w.insertMeterRows(pk, null, Array.from({ length: PER }, (_, i) => ({ timestamp: ts(t * PER + i), samples: [{ value: String(t * PER + i) }] }))));
      }
    })();
    await waitLines((n) => n >= 300);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const before = lines();
    await writing;

    const second = child();
    await new Promise((r) => second.stdout!.once('data', r));
    await waitLines(() => new Set(lines().map((l) => l.id)).size >= TX * PER);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));

    const all = lines().filter((l) => l.type === 'meterValues');
    const unique = new Set(all.map((l) => l.id));
    expect(unique.size).toBe(TX * PER);
    const after = all.slice(before.filter((l) => l.type === 'meterValues').length);
    const firstIds = new Set(before.map((l) => l.id));
    const beforeMv = before.filter((l) => l.type === 'meterValues');
    const repeated = after.filter((l) => firstIds.has(l.id));
    // Repeats are a tail of what the first process saw, and only whole transactions (keys are GTIDs).
    const txOf = (id: string): string => id.split(':')[1]!;
    const repeatedTx = [...new Set(repeated.map((l) => txOf(l.id)))];
    const firstTx = [...new Set(beforeMv.map((l) => txOf(l.id)))];
    expect(repeatedTx).toEqual(firstTx.slice(firstTx.length - repeatedTx.length));
    // Positions are recorded at the end of each event-loop turn: only the last turn's transactions come again.
    const lastTurn = beforeMv.at(-1)!.turn;
    const lastTurnTx = new Set(beforeMv.filter((l) => l.turn === lastTurn).map((l) => txOf(l.id)));
    expect(repeatedTx.filter((tx) => !lastTurnTx.has(tx))).toEqual([]);
    console.log(`gateway kill -9: first run ${before.length} events, repeated ${repeated.length} (${repeatedTx.length} transaction(s)), lost 0`);
    await w.close();
  }, 60_000);
});

describe('database trouble', () => {
  it('kill -9 of mariadbd mid-stream and restart: reconnects, 0 lost', async () => {
    const url = await createSteveDatabase(server, { database: 'dbkill_db', generation: '3.12' });
    let w = await SteveWriter.open(server, 'dbkill_db', '3.12');
    await w.addStation('CB1');
    const rig = makeReader(url, await tempDir());
    await rig.reader.start();
    await rig.waitFor(() => rig.reader.health().state === 'streaming');
    let n = 0;
    let stop = false;
    let killed = false;
    const writer = (async () => {
      while (!stop) {
        try {
          await w.statusNotification('CB1', 1, 'Charging', 'NoError', { timestamp: ts(n) });
          n += 1;
        } catch {
          if (!killed) throw new Error('unexpected write failure');
          n += 1; // this row may or may not have committed: the database decides below
          while (!stop) {
            try {
              w = await SteveWriter.open(server, 'dbkill_db', '3.12');
              break;
            } catch {
              await sleep(100);
            }
          }
        }
        await sleep(3);
      }
    })();
    await rig.waitFor(() => rig.ofType('status').length >= 100);
    killed = true;
    await server.kill9();
    await rig.waitFor(() => rig.reader.health().state === 'reconnecting');
    await sleep(500);
    await server.restart();
    await rig.waitFor(() => rig.ofType('status').length >= 300, 30_000);
    stop = true;
    await writer;
    const truth = await dbStatusTimes(w);
    await rig.waitFor(() => rig.ofType('status').length >= truth.length, 10_000);
    const seen = rig.ofType('status').map((e) => e.timestamp);
    expect([...new Set(seen)].sort()).toEqual(truth);
    expect(await rig.registry.metrics()).toMatch(/chargebridge_cdc_reconnects_total [1-9]/);
    console.log(`mariadbd kill -9: ${truth.length} rows in the database, ${seen.length} status events (${seen.length - new Set(seen).size} repeats), 0 lost`);
    await rig.reader.stop();
    await w.close();
  }, 90_000);

  it('purged binlog: a new snapshot (resync binlog-purged) and streaming from exactly its point, no gap, no overlap', async () => {
    const url = await createSteveDatabase(server, { database: 'purge_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'purge_db', '3.13');
    await w.addStation('CB1');
    const dataDir = await tempDir();
    const a = makeReader(url, dataDir);
    await a.reader.start();
    await w.statusNotification('CB1', 1, 'Available', 'NoError', { timestamp: ts(0) });
    await a.waitFor(() => a.ofType('status').length === 1);
    await a.reader.stop();
    // While the gateway is down: more rows, then the binlog holding them is purged.
    for (let c = 2; c <= 20; c++) await w.statusNotification('CB1', c, 'Available', 'NoError', { timestamp: ts(c) });
    await server.query('FLUSH BINARY LOGS');
    await server.query('FLUSH BINARY LOGS');
    // PURGE skips files a (just killed) dump thread still holds; repeat until only the newest file is left.
    for (let i = 0; ; i++) {
      const logs = await server.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
      if (logs.length === 1) break;
      if (i > 100) throw new Error('binlogs not purged');
      await server.query(`PURGE BINARY LOGS TO '${logs.at(-1)!.Log_name}'`);
      await sleep(50);
    }
    // A writer keeps going while the new reader snapshots: each row on a fresh connector.
    const writer = keepWriting(w, 21);
    const b = makeReader(url, dataDir);
    await b.reader.start();
    await b.waitFor(() => b.ofType('resync').length === 1).catch((err: unknown) => {
      console.log(JSON.stringify(b.logs.filter((l) => l.level !== 20).map((l) => [l.msg, l.err, l.checkpoint])), b.ofType('status').slice(0, 3).map((e) => [e.connectorId, e.id]));
      throw err;
    });
    await sleep(300);
    const total = await writer.stop();
    await b.waitFor(() => {
      const r = b.ofType('resync')[0]!;
      return r.data.connectors.length + b.ofType('status').length >= total;
    }).catch((err: unknown) => {
      const r = b.ofType('resync')[0]!;
      const snap = r.data.connectors.map((x) => x.connectorId).sort((x, y) => x - y);
      const st = b.ofType('status').map((e) => e.connectorId!);
      console.log({ total, snapN: snap.length, snapMax: snap.at(-1), streamed: st.length, first: st.slice(0, 5), last: st.slice(-3), checkpoint: b.reader.health() });
      throw err;
    });
    const resync = b.ofType('resync')[0]!;
    expect(resync.data.reason).toBe('binlog-purged');
    const fromSnapshot = resync.data.connectors.map((x) => x.connectorId);
    const streamed = b.ofType('status').map((e) => e.connectorId!);
    expect(fromSnapshot.filter((x) => streamed.includes(x))).toEqual([]);
    expect([...fromSnapshot, ...streamed].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(streamed.length).toBeGreaterThan(0);
    console.log(`purged binlog: ${fromSnapshot.length} connectors from the snapshot, ${streamed.length} streamed after it, 0 overlap, 0 missing`);
    await b.reader.stop();
    await w.close();
  }, 60_000);

  it('snapshot under a brief global read lock (the MySQL way, run here on MariaDB): streaming from its point, no gap, no overlap', async () => {
    const url = await createSteveDatabase(server, { database: 'lock_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'lock_db', '3.13');
    await w.addStation('CB1');
    for (let c = 1; c <= 10; c++) await w.statusNotification('CB1', c, 'Available', 'NoError', { timestamp: ts(c) });
    // A writer keeps going while the snapshot is taken: each row on a fresh connector.
    const writer = keepWriting(w, 11);
    await sleep(100);
    const config = parseCdcConfig({ STEVE_DB_URL: url, CDC_SERVER_ID: '4242' });
    if (!config) throw new Error('no config');
    let snap: Awaited<ReturnType<typeof takeSnapshot>>;
    let total: number;
    try {
      // Without RELOAD the lock is refused, and the error names the grant.
      const denied = createQueryPool(config);
      await expect(takeSnapshot(denied, NAMING.evse, new Topology(NAMING.evse), 'read-lock', true)).rejects.toThrow(/GRANT RELOAD ON \*\.\*/);
      await denied.end();
      await server.query(`GRANT RELOAD ON *.* TO '${decodeURIComponent(new URL(url).username)}'@'%'`);
      const pool = createQueryPool(config); // global privileges are read when a session starts
      snap = await takeSnapshot(pool, NAMING.evse, new Topology(NAMING.evse), 'read-lock', true);
      await pool.end();
      await sleep(200);
    } finally {
      total = await writer.stop();
    }

    // Stream from the snapshot's point, as the reader does after taking one.
    const dataDir = await tempDir();
    await mkdir(path.join(dataDir, 'cdc'), { recursive: true });
    await writeFile(path.join(dataDir, 'cdc', 'checkpoint.json'), JSON.stringify({ gtid: snap.gtid, file: snap.file, position: snap.position, updatedAt: new Date().toISOString() }));
    const r = makeReader(url, dataDir);
    await r.reader.start();
    const fromSnapshot = (snap.stations.get('CB1')?.connectors ?? []).map((x) => x.connectorId);
    await r.waitFor(() => fromSnapshot.length + r.ofType('status').length >= total);
    await sleep(200); // anything streamed twice would show up by now
    const streamed = r.ofType('status').map((e) => e.connectorId!);
    expect(snap.gtid).toMatch(/^\d+-\d+-\d+/);
    expect(fromSnapshot.length).toBeGreaterThan(10);
    expect(streamed.length).toBeGreaterThan(0);
    expect(fromSnapshot.filter((x) => streamed.includes(x))).toEqual([]);
    expect([...fromSnapshot, ...streamed].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    console.log(`read-lock snapshot: ${fromSnapshot.length} connectors from the snapshot, ${streamed.length} streamed after it, 0 overlap, 0 missing`);
    await r.reader.stop();
    await w.close();
  }, 60_000);

  it('the read lock gives up after its wait limit when another session holds a write lock, so SteVe is not stalled for long', async () => {
    const url = await createSteveDatabase(server, { database: 'lock_wait_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'lock_wait_db', '3.13');
    await w.addStation('CB1');
    await server.query(`GRANT RELOAD ON *.* TO '${decodeURIComponent(new URL(url).username)}'@'%'`);
    const config = parseCdcConfig({ STEVE_DB_URL: url, CDC_SERVER_ID: '4243' });
    if (!config) throw new Error('no config');
    await w.q('LOCK TABLES charge_box WRITE'); // another session in the middle of something
    const pool = createQueryPool(config);
    const t0 = Date.now();
    await expect(takeSnapshot(pool, NAMING.evse, new Topology(NAMING.evse), 'read-lock', true)).rejects.toThrow(/lock wait timeout/i);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThan(4000);
    expect(waited).toBeLessThan(8000);
    await pool.end();
    await w.q('UNLOCK TABLES');
    await w.close();
  }, 30_000);

  it('FLUSH LOGS rotation while streaming, and a column added mid-table while the reader is down (rows before and after decode by name)', async () => {
    const url = await createSteveDatabase(server, { database: 'rotate_db', generation: '3.12' });
    const w = await SteveWriter.open(server, 'rotate_db', '3.12');
    await w.addStation('CB1');
    const dataDir = await tempDir();
    const a = makeReader(url, dataDir);
    await a.reader.start();
    const fileBefore = (await a.waitFor(() => a.reader.health().state === 'streaming'), a.reader.health().position.file);
    for (let i = 0; i < 120; i++) {
      await w.statusNotification('CB1', 1, 'Charging', 'NoError', { timestamp: ts(i), vendorId: `v${i}` });
      if (i % 30 === 29) await server.query('FLUSH BINARY LOGS');
    }
    await a.waitFor(() => a.ofType('status').length === 120);
    expect(a.ofType('status').map((e) => e.data.vendorId)).toEqual(Array.from({ length: 120 }, (_, i) => `v${i}`));
    expect(a.reader.health().position.file).not.toBe(fileBefore);
    await a.reader.stop();

    await w.statusNotification('CB1', 1, 'Preparing', 'NoError', { timestamp: ts(200), info: 'old layout' });
    await w.q("ALTER TABLE connector_status ADD COLUMN source_note VARCHAR(30) NULL AFTER connector_pk");
    await w.q("INSERT INTO connector_status (connector_pk, source_note, status_timestamp, status, error_code, error_info) SELECT connector_pk, 'n', ?, 'Finishing', 'NoError', 'new layout' FROM connector WHERE connector_id = 1", [
      '2026-01-01 00:03:21.000',
    ]);
    const b = makeReader(url, dataDir);
    await b.reader.start();
    await b.waitFor(() => b.ofType('status').length === 2);
    expect(b.ofType('status').map((e) => [e.data.status, e.data.info, e.timestamp])).toEqual([
      ['Preparing', 'old layout', ts(200)],
      ['Finishing', 'new layout', ts(201)],
    ]);
    await w.q('ALTER TABLE connector_status DROP COLUMN source_note');
    await w.statusNotification('CB1', 1, 'Available', 'NoError', { timestamp: ts(202) });
    await b.waitFor(() => b.ofType('status').length === 3);
    expect(b.ofType('status')[2]!.data.status).toBe('Available');
    await b.reader.stop();
    await w.close();
  }, 60_000);

  it('a silent dead connection is detected through the missing server heartbeat, then the stream reconnects', async () => {
    const url = await createSteveDatabase(server, { database: 'hb_db', generation: '3.13' });
    const w = await SteveWriter.open(server, 'hb_db', '3.13');
    await w.addStation('CB1');
    // A TCP relay that can go silent without closing anything, like a dropped NAT entry.
    const sockets: net.Socket[] = [];
    const proxy = net.createServer((client) => {
      const upstream = net.connect(server.port, '127.0.0.1');
      sockets.push(client, upstream);
      client.on('data', (d) => upstream.write(d));
      upstream.on('data', (d) => (!frozenSockets.has(client) ? client.write(d) : undefined));
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    const frozenSockets = new Set<net.Socket>();
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    const rig = makeReader(url.replace(`:${server.port}/`, `:${port}/`), await tempDir());
    await rig.reader.start();
    await rig.waitFor(() => rig.reader.health().state === 'streaming');
    await w.statusNotification('CB1', 1, 'Available', 'NoError', { timestamp: ts(1) });
    await rig.waitFor(() => rig.ofType('status').length === 1);
    // Freeze every connection open now: server → reader bytes stop, nothing is closed.
    for (const s of sockets) frozenSockets.add(s);
    await w.statusNotification('CB1', 1, 'Charging', 'NoError', { timestamp: ts(2) });
    await rig.waitFor(() => rig.reader.health().lastError?.message.includes('presumed dead') === true, 15_000);
    await rig.waitFor(() => rig.ofType('status').length === 2, 15_000);
    expect(rig.ofType('status')[1]!.data.status).toBe('Charging');
    await rig.reader.stop();
    for (const s of sockets) s.destroy();
    proxy.close();
    await w.close();
  }, 40_000);
});
