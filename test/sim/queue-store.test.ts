// The simulator's per-station store on a real directory: a write-ahead (writeNow) is never overwritten by a
// batched flush that took its snapshot before it, and temp files a crash left behind are cleared.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { QueueStore, type PersistedQueue, type Persistable } from '../../src/sim/queue-store.js';
import { tempDir } from './helpers.js';

function station(id: string): Persistable & { txCounter: number } {
  const s = {
    id,
    txCounter: 0,
    snapshot: (): PersistedQueue => ({ v: 1, txCounter: s.txCounter, txIds: [], open: [], messages: [] }),
  };
  return s;
}

it('a writeNow during a batched flush wins, whatever order the disk finishes in', async () => {
  const dir = tempDir();
  const store = new QueueStore(dir);
  const st = station('WAL-1');
  for (let round = 1; round <= 20; round++) {
    st.txCounter = round * 2 - 1;
    store.markDirty(st);
    const flushing = store.flush(); // snapshot taken now: the older state
    st.txCounter = round * 2;
    store.writeNow(st);
    await flushing;
    const saved = JSON.parse(readFileSync(path.join(dir, 'sim', 'WAL-1.json'), 'utf8')) as PersistedQueue;
    expect(saved.txCounter).toBe(round * 2);
  }
  expect(readdirSync(path.join(dir, 'sim'))).toEqual(['WAL-1.json']);
});

it('clears temp files of interrupted writes at start and keeps the last complete file', () => {
  const dir = tempDir();
  new QueueStore(dir);
  writeFileSync(path.join(dir, 'sim', 'A.json'), JSON.stringify({ v: 1, txCounter: 7, txIds: [], open: [], messages: [] }));
  writeFileSync(path.join(dir, 'sim', 'A.json.12.tmp'), '{"v":1,"txCou');
  const store = new QueueStore(dir);
  expect(readdirSync(path.join(dir, 'sim'))).toEqual(['A.json']);
  expect(store.load('A')?.txCounter).toBe(7);
});
