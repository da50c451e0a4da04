// When positions are written: a transaction with events at the end of its turn; one that only moved the position
// (a table or schema the reader does not follow) at most once per MOVED_EVERY_MS, and never ahead of events. Unit
// tests on real timers, then the real reader on a private mariadbd busy with another database.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckpointStore, type Checkpoint } from '../../src/cdc/checkpoint.js';
import { TurnEndCheckpoint } from '../../src/cdc/turn-end-checkpoint.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { makeReader, tempDir } from './harness.js';
import { SteveWriter } from './steve-writes.js';

const cp = (n: number): Checkpoint => ({ gtid: `0-1-${n}`, updatedAt: 'now' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('TurnEndCheckpoint', () => {
  it('writes a moved-only position at once after a quiet spell, then at most once per interval, the newest', async () => {
    const written: string[] = [];
    const saves = new TurnEndCheckpoint((c) => written.push(c.gtid ?? ''), 200);
    saves.moved(cp(1));
    await nextTurn();
    expect(written).toEqual(['0-1-1']);
    for (let i = 2; i <= 20; i++) {
      saves.moved(cp(i));
      await nextTurn();
    }
    expect(written).toEqual(['0-1-1']);
    await sleep(300);
    expect(written).toEqual(['0-1-1', '0-1-20']);
  });

  it('a transaction with events is written at the end of its turn, taking a waiting moved-only position with it', async () => {
    const written: string[] = [];
    const saves = new TurnEndCheckpoint((c) => written.push(c.gtid ?? ''), 200);
    saves.moved(cp(1));
    await nextTurn();
    saves.moved(cp(2)); // waits for the interval
    await nextTurn();
    saves.afterEvents(cp(3));
    await nextTurn();
    expect(written).toEqual(['0-1-1', '0-1-3']);
    await sleep(300); // the wait ended with the write: nothing more
    expect(written).toEqual(['0-1-1', '0-1-3']);
  });

  it('a flush writes a waiting moved-only position at once', async () => {
    const written: string[] = [];
    const saves = new TurnEndCheckpoint((c) => written.push(c.gtid ?? ''), 10_000);
    saves.moved(cp(1));
    await nextTurn();
    saves.moved(cp(2));
    saves.flush();
    expect(written).toEqual(['0-1-1', '0-1-2']);
  });
});

let server: PrivateMariadb;
beforeAll(async () => {
  server = await startMariadb();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe.each([
  ['in the main thread', {}],
  ['in its own thread', { CDC_READER_THREAD: 'on' }],
])('binlog reader %s beside a busy database it does not follow', (_name, env: Record<string, string>) => {
  it('writes its position about once a second, not once per transaction, and the newest at its stop', async () => {
    const suffix = env.CDC_READER_THREAD ? 'thread' : 'main';
    const url = await createSteveDatabase(server, { database: `steve_moved_${suffix}`, generation: '3.13' });
    await createSteveDatabase(server, { database: `other_app_${suffix}`, generation: '3.13' });
    const other = await SteveWriter.open(server, `other_app_${suffix}`, '3.13');
    await other.addStation('ELSEWHERE');
    const dataDir = await tempDir();
    const rig = makeReader(url, dataDir, env);
    let saves = 0;
    const save = CheckpointStore.prototype.save;
    vi.spyOn(CheckpointStore.prototype, 'save').mockImplementation(function (this: CheckpointStore, ...args: Parameters<CheckpointStore['save']>) {
      saves++;
      return save.apply(this, args);
    });
    try {
      await rig.reader.start();
      await rig.waitFor(() => rig.reader.health().state === 'streaming');
      const before = saves;
      const started = Date.now();
      // 60 transactions in the other database, in about 0.6 s: each one moves the reader's position.
      for (let i = 0; i < 60; i++) {
        await other.statusNotification('ELSEWHERE', 1, i % 2 ? 'Charging' : 'Available', 'NoError');
        await sleep(10);
      }
      const serverPos = (await server.query<{ g: string }[]>('SELECT @@gtid_binlog_pos AS g'))[0]?.g;
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + 5000;
        const poll = (): void => {
          if (rig.reader.health().position?.gtid === serverPos) resolve();
          else if (Date.now() > deadline) reject(new Error(`reader at ${JSON.stringify(rig.reader.health().position)}, server at ${serverPos}`));
          else setTimeout(poll, 20);
        };
        poll();
      });
      const seconds = (Date.now() - started) / 1000;
      // One write per started second of the run, give or take the first: not one per transaction (60).
      expect(saves - before).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
      expect(rig.events).toEqual([]);
      await rig.reader.stop();
      expect(new CheckpointStore(dataDir).load()?.gtid).toBe(serverPos);
    } finally {
      await rig.reader.stop();
      await other.close();
    }
  }, 60_000);
});
