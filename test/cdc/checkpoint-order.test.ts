// The binlog checkpoint never leads the event history: whenever the reader records a position (at a stop too),
// every event of the transactions up to it is already in the history journal on disk. Otherwise a kill -9 between
// the two writes loses those events for good: the restarted reader resumes past them and the journal never had them.
// Real private mariadbd, real reader (in the main thread and in its own), real event model on the same DATA_DIR.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckpointStore } from '../../src/cdc/checkpoint.js';
import { startModel } from '../events/helpers.js';
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
afterEach(() => {
  vi.restoreAllMocks();
});

function journalText(dataDir: string): string {
  const dir = path.join(dataDir, 'events');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith('journal-'));
  } catch {
    return '';
  }
  return names.map((n) => readFileSync(path.join(dir, n), 'utf8')).join('');
}

describe.each([
  ['in the main thread', {}],
  ['in its own thread', { CDC_READER_THREAD: 'on' }],
])('binlog reader %s', (_name, env: Record<string, string>) => {
  it('records a checkpoint only once the events it covers are in the history journal', async () => {
    const db = `steve_cporder_${env.CDC_READER_THREAD ? 'thread' : 'main'}`;
    const url = await createSteveDatabase(server, { database: db, generation: '3.13' });
    const w = await SteveWriter.open(server, db, '3.13');
    await w.addStation('ORDER1');
    await w.addStation('ORDER2');
    const dataDir = await tempDir();
    const rig = makeReader(url, dataDir, env);
    const h = await startModel({ dataDir, binlogConfigured: true, bus: rig.bus });
    // Each save is checked against the files as they are at that moment, then done as usual.
    const missing: string[] = [];
    let saves = 0;
    const save = CheckpointStore.prototype.save;
    vi.spyOn(CheckpointStore.prototype, 'save').mockImplementation(function (this: CheckpointStore, ...args: Parameters<CheckpointStore['save']>) {
      saves++;
      const journal = journalText(dataDir);
      for (const e of rig.events) if (!journal.includes(JSON.stringify(e.id))) missing.push(e.id);
      return save.apply(this, args);
    });
    try {
      await rig.reader.start();
      await rig.waitFor(() => rig.reader.health().state === 'streaming');
      const before = saves;
      for (let i = 0; i < 6; i++) await w.statusNotification(i % 2 ? 'ORDER2' : 'ORDER1', 1, i % 3 ? 'Charging' : 'Available', 'NoError');
      await rig.waitFor((events) => events.filter((e) => e.type === 'status').length >= 6);
      // The last transaction's position is recorded too (not only the ones before it).
      await vi.waitFor(() => expect(saves - before).toBeGreaterThanOrEqual(1), { timeout: 5000 });
      const last = rig.events.at(-1)?.id ?? '';
      await vi.waitFor(() => expect(journalText(dataDir)).toContain(JSON.stringify(last)), { timeout: 5000 });
      // More rows, and a stop as soon as their events are on the bus: the stop's last save comes after them too.
      for (let i = 0; i < 3; i++) await w.statusNotification('ORDER1', 1, i % 2 ? 'Charging' : 'SuspendedEV', 'NoError');
      await rig.waitFor((events) => events.filter((e) => e.type === 'status').length >= 9);
      await rig.reader.stop();
      expect(missing).toEqual([]);
    } finally {
      await rig.reader.stop();
      await h.model.stop();
      await w.close();
    }
  }, 60_000);
});
