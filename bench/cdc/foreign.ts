// What a transaction the reader does not follow costs it: SteVe's MariaDB often serves other databases too, and
// every one of their transactions reaches the reader (the binlog is the server's), which skips its rows but moves
// its position. A writer child process commits single-row INSERTs into another database at --rate tx/s; this
// process follows SteVe's database with the reader (in the main thread) or with bare @vlasky/zongji given the same
// schema filter (the floor), in --rounds rounds of alternating order, and prints each side's CPU per transaction
// and the ratio, per round and as the median.
//   npx tsx bench/cdc/foreign.ts [--tx 2000] [--rate 200] [--rounds 3]
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ZongJi from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import pino from 'pino';
import { Registry } from 'prom-client';
import { binlogOptions } from '../../src/cdc/db.js';
import { createCdcReader, parseCdcConfig, type CdcConfig } from '../../src/cdc/index.js';
import { Bus } from '../../src/events/bus.js';
import { SteveWriter, sqlTime } from '../../test/cdc/steve-writes.js';
import { createSteveDatabase, startMariadb } from '../../test/support/mariadb.js';
import { arg, ask, median, withGatewayFlags } from '../lib/proc.js';

type WriterMsg = { cmd: 'write'; socket: string; evsePk: number; count: number; rate: number } | { cmd: 'close' };

/** The writer child: paced single-row autocommit INSERTs into the database the reader does not follow. */
function runWriter(): void {
  let conn: mysql.Connection | undefined;
  process.on('message', (raw: unknown) => {
    const msg = raw as WriterMsg;
    void (async () => {
      if (msg.cmd === 'close') {
        await conn?.end();
        process.exit(0);
      }
      conn ??= await mysql.createConnection({ socketPath: msg.socket, user: 'root', database: 'other_app' });
      const start = performance.now();
      for (let i = 0; i < msg.count; i++) {
        const wait = start + (i * 1000) / msg.rate - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        await conn.query("INSERT INTO connector_status (evse_pk, status_timestamp, status, error_code, error_info) VALUES (?, ?, 'Available', 'NoError', ?)", [
          msg.evsePk, sqlTime(new Date()), `x${i}`,
        ]);
      }
      process.send?.({ kind: 'written' });
    })();
  });
}

async function runBench(): Promise<void> {
  const count = arg('tx', 2000);
  const rate = arg('rate', 200);
  const rounds = arg('rounds', 3);
  const server = await startMariadb();
  const url = await createSteveDatabase(server, { database: 'stevedb', generation: '3.13' });
  await createSteveDatabase(server, { database: 'other_app', generation: '3.13' });
  const w = await SteveWriter.open(server, 'other_app', '3.13');
  await w.addStation('ELSEWHERE');
  const evsePk = await w.tx(() => w.insertIgnoreConnector('ELSEWHERE', 1));
  await w.close();
  const config = parseCdcConfig({ STEVE_DB_URL: url, CDC_SERVER_ID: '931' }) as CdcConfig;
  const writer = fork(import.meta.filename, ['--as-writer'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const quiet = pino({ level: 'silent' });

  const sides: Record<'bare' | 'reader', () => Promise<() => Promise<void>>> = {
    bare: async () => {
      const z = new ZongJi(binlogOptions(config));
      await new Promise<void>((resolve) => {
        z.once('ready', () => resolve());
        z.start({ serverId: 932, startAtEnd: true, includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query'], includeSchema: { [config.database]: ['connector_status'] } });
      });
      return async () => z.stop();
    },
    reader: async () => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cb-bench-foreign-'));
      const r = createCdcReader({ config, bus: new Bus(), logger: quiet, dataDir, registry: new Registry() });
      await r.start();
      while (r.health().state !== 'streaming') await new Promise((res) => setTimeout(res, 20));
      return async () => {
        await r.stop();
        await rm(dataDir, { recursive: true, force: true });
      };
    },
  };

  const perTx: Record<'bare' | 'reader', number[]> = { bare: [], reader: [] };
  try {
    console.log(`foreign transactions: ${count} single-row INSERTs at ${rate} tx/s into a database the followers skip, ${rounds} rounds`);
    for (let round = 1; round <= rounds; round++) {
      const order: ('bare' | 'reader')[] = round % 2 ? ['bare', 'reader'] : ['reader', 'bare'];
      for (const side of order) {
        const stop = await sides[side]();
        await new Promise((r) => setTimeout(r, 500));
        const c0 = process.cpuUsage();
        await ask(writer, { cmd: 'write', socket: server.socket, evsePk, count, rate }, 'written');
        await new Promise((r) => setTimeout(r, 500));
        const c = process.cpuUsage(c0);
        perTx[side].push((c.user + c.system) / count);
        await stop();
      }
      const [b, r] = [perTx.bare.at(-1)!, perTx.reader.at(-1)!];
      console.log(`  round ${round}: bare @vlasky/zongji ${b.toFixed(1)} µs per transaction, reader ${r.toFixed(1)} µs: ${(r / b).toFixed(2)}×`);
    }
    const ratios = perTx.reader.map((r, i) => r / perTx.bare[i]!);
    console.log(`median: bare ${median(perTx.bare).toFixed(1)} µs, reader ${median(perTx.reader).toFixed(1)} µs per transaction; reader / bare ${median(ratios).toFixed(2)}× (median of the rounds' ratios)`);
  } finally {
    writer.send({ cmd: 'close' });
    await server.stop();
  }
  process.exit(0);
}

if (process.argv.includes('--as-writer')) runWriter();
else {
  withGatewayFlags();
  await runBench();
}
