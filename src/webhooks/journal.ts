// The persistent part of one subscription's queue: an append-only JSON-lines journal in DATA_DIR/webhooks/<id>.jsonl.
// Memory is the truth while running; lines are appended in batches off the event path and replayed at start, and
// the file is rewritten from memory when it grows well past what is still live. A graceful stop flushes everything;
// a crash can lose the last batch (a few milliseconds of events).
import { appendFile, rename, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

/** One queued or dead event. `key` orders them within a subscription; `eventId` is what receivers de-duplicate on. */
export interface StoredItem {
  readonly key: number;
  readonly eventId: string;
  readonly station: string;
  readonly body: string;
  readonly enqueuedAt: number;
}

export interface DeadItem extends StoredItem {
  readonly attempts: number;
  readonly lastError: string;
  readonly deadAt: number;
}

type Line =
  | ['q', number, string, string, string, number] // queued: key, eventId, station, body, enqueuedAt
  | ['d', number] // delivered (or dropped from the queue)
  | ['x', number, number, string, number] // dead: key, attempts, lastError, deadAt
  | ['r', number] // re-queued from the dead-letter list
  | ['c', number]; // cleared from the dead-letter list

export interface Replayed {
  readonly queued: StoredItem[];
  readonly dead: DeadItem[];
  readonly nextKey: number;
  /** Lines that could not be read (a torn last line after a crash). */
  readonly badLines: number;
}

export class Journal {
  readonly file: string;
  #pending: string[] = [];
  #chain: Promise<void> = Promise.resolve();
  #scheduled = false;
  #fileBytes = 0;
  #closed = false;

  constructor(
    dir: string,
    id: string,
    private readonly snapshot: () => { queued: Iterable<StoredItem>; dead: Iterable<DeadItem>; liveBytes: number },
    private readonly onError: (err: unknown) => void,
  ) {
    this.file = path.join(dir, `${id}.jsonl`);
  }

  /** Reads what a previous run left; the order of `queued` is the delivery order. */
  replay(): Replayed {
    const queued = new Map<number, StoredItem>();
    const dead = new Map<number, DeadItem>();
    let nextKey = 1;
    let badLines = 0;
    if (!existsSync(this.file)) return { queued: [], dead: [], nextKey, badLines };
    const text = readFileSync(this.file, 'utf8');
    this.#fileBytes = Buffer.byteLength(text);
    for (const raw of text.split('\n')) {
      if (raw === '') continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        badLines++;
        continue;
      }
      switch (line[0]) {
        case 'q':
          queued.set(line[1], { key: line[1], eventId: line[2], station: line[3], body: line[4], enqueuedAt: line[5] });
          nextKey = Math.max(nextKey, line[1] + 1);
          break;
        case 'd':
          queued.delete(line[1]);
          break;
        case 'x': {
          const item = queued.get(line[1]);
          queued.delete(line[1]);
          if (item) dead.set(line[1], { ...item, attempts: line[2], lastError: line[3], deadAt: line[4] });
          break;
        }
        case 'r': {
          const item = dead.get(line[1]);
          dead.delete(line[1]);
          // Re-queued items go to the end, as in the running process.
          if (item) queued.set(line[1], { key: item.key, eventId: item.eventId, station: item.station, body: item.body, enqueuedAt: item.enqueuedAt });
          break;
        }
        case 'c':
          dead.delete(line[1]);
          break;
        default:
          badLines++;
      }
    }
    return { queued: [...queued.values()], dead: [...dead.values()], nextKey, badLines };
  }

  queued(item: StoredItem): void {
    this.#write(['q', item.key, item.eventId, item.station, item.body, item.enqueuedAt]);
  }
  removed(key: number): void {
    this.#write(['d', key]);
  }
  died(item: DeadItem): void {
    this.#write(['x', item.key, item.attempts, item.lastError, item.deadAt]);
  }
  requeued(key: number): void {
    this.#write(['r', key]);
  }
  cleared(key: number): void {
    this.#write(['c', key]);
  }

  /** Resolves when everything written so far is on disk. */
  flush(): Promise<void> {
    this.#drain();
    return this.#chain;
  }

  /** Stops writing and deletes the file (the subscription was deleted). */
  async destroy(): Promise<void> {
    this.#closed = true;
    this.#pending = [];
    await this.#chain;
    rmSync(this.file, { force: true });
  }

  #write(line: Line): void {
    if (this.#closed) return;
    this.#pending.push(JSON.stringify(line));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0 || this.#closed) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#chain = this.#chain.then(async () => {
      try {
        const snap = this.snapshot();
        // Rewrite when the journal is mostly history: it then holds only what is live.
        if (this.#fileBytes > 1024 * 1024 && this.#fileBytes > 4 * snap.liveBytes) {
          const out: string[] = [];
          for (const q of snap.queued) out.push(JSON.stringify(['q', q.key, q.eventId, q.station, q.body, q.enqueuedAt]));
          for (const d of snap.dead) {
            out.push(JSON.stringify(['q', d.key, d.eventId, d.station, d.body, d.enqueuedAt]), JSON.stringify(['x', d.key, d.attempts, d.lastError, d.deadAt]));
          }
          const text = out.length > 0 ? `${out.join('\n')}\n` : '';
          const tmp = `${this.file}.tmp`;
          await writeFile(tmp, text, { mode: 0o600 });
          await rename(tmp, this.file);
          this.#fileBytes = Buffer.byteLength(text);
          return; // the snapshot already holds what `lines` recorded
        }
        const text = `${lines.join('\n')}\n`;
        await appendFile(this.file, text, { mode: 0o600 });
        this.#fileBytes += Buffer.byteLength(text);
      } catch (err) {
        this.onError(err);
      }
    });
  }
}
