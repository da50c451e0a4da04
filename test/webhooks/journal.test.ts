// The persistent queue file: replay after a restart, a torn last line, and the rewrite that keeps it small.
import { appendFileSync, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, type DeadItem, type StoredItem } from '../../src/webhooks/journal.js';

function journalIn(dir: string, live: { queued: StoredItem[]; dead: DeadItem[] }): Journal {
  return new Journal(dir, 'sub', () => ({ ...live, liveBytes: [...live.queued, ...live.dead].reduce((n, i) => n + i.body.length, 0) }), (err) => {
    throw err;
  });
}

const item = (key: number, body = `{"n":${key}}`): StoredItem => ({ key, eventId: `e${key}`, station: key % 2 ? 'A' : 'B', body, enqueuedAt: 1000 + key });

describe('webhook journal', () => {
  it('replays queued, delivered, dead, re-queued and cleared items in delivery order, skipping a torn line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-journal-'));
    const j = journalIn(dir, { queued: [], dead: [] });
    for (const k of [1, 2, 3, 4, 5]) j.queued(item(k));
    j.removed(1);
    j.died({ ...item(2), attempts: 8, lastError: 'HTTP 500', deadAt: 5 });
    j.died({ ...item(3), attempts: 1, lastError: 'HTTP 400', deadAt: 6 });
    j.requeued(2);
    j.cleared(3);
    await j.flush();
    appendFileSync(j.file, '["q",9,"e9","A","{\\"n'); // a crash in the middle of a write
    const r = journalIn(dir, { queued: [], dead: [] }).replay();
    expect(r.queued.map((q) => q.key)).toEqual([4, 5, 2]);
    expect(r.dead).toEqual([]);
    expect(r.nextKey).toBe(6);
    expect(r.badLines).toBe(1);
  });

  it('rewrites itself from memory when it is mostly history', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-journal-'));
    const live = { queued: [] as StoredItem[], dead: [] as DeadItem[] };
    const j = journalIn(dir, live);
    const body = JSON.stringify({ pad: 'x'.repeat(1000) });
    for (let k = 1; k <= 3000; k++) {
      j.queued(item(k, body));
      if (k < 3000) j.removed(k);
      if (k % 200 === 0) await j.flush();
    }
    live.queued.push(item(3000, body));
    j.queued(item(3001, body));
    live.queued.push(item(3001, body));
    await j.flush();
    expect(statSync(j.file).size).toBeLessThan(1024 * 1024 + 64 * 1024);
    const r = journalIn(dir, { queued: [], dead: [] }).replay();
    expect(r.queued.map((q) => q.key)).toEqual([3000, 3001]);
  });
});
