// Persistence of each station's transaction messages (MicroOcpp keeps them on flash): one small JSON file per
// station under DATA_DIR/sim, written only while something is queued or a transaction is open, so a station
// that is online and idle costs no disk I/O. Writes are batched by one flusher for all stations; a transaction's
// start, its id and its stop are written at once (writeNow), before the station acts on them (write-ahead).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type QueuedKind = 'start' | 'meter' | 'stop' | 'summary';

/** A transaction message waiting to be sent; `tx` is the station's local transaction number. */
export interface QueuedMessage {
  readonly kind: QueuedKind;
  readonly tx: number;
  readonly action: 'StartTransaction' | 'MeterValues' | 'StopTransaction' | 'DataTransfer';
  /** The payload without transactionId (filled in at send time, once the central system has assigned it). */
  readonly payload: Record<string, unknown>;
  attempts: number;
}

export interface OpenTransaction {
  readonly tx: number;
  readonly connectorId: number;
  readonly idTag: string;
  readonly meterStart: number;
  readonly startedAt: number;
  /** Last energy register reading (Wh), for the StopTransaction after a power loss. */
  lastMeterWh: number;
}

export interface PersistedQueue {
  readonly v: 1;
  readonly txCounter: number;
  /** local tx → transactionId, for the transactions the queue or an open session still refers to. */
  readonly txIds: readonly (readonly [number, number])[];
  readonly open: readonly OpenTransaction[];
  readonly messages: readonly QueuedMessage[];
  readonly config?: Readonly<Record<string, string>>;
}

export interface Persistable {
  readonly id: string;
  /** What to write, or undefined when there is nothing worth keeping (the file is removed). */
  snapshot(): PersistedQueue | undefined;
}

export class QueueStore {
  readonly #dir: string;
  readonly #present: Set<string>;
  readonly #dirty = new Map<string, Persistable>();
  /** Per station: bumped by every synchronous write, so a batched write begun before it never lands after it. */
  readonly #version = new Map<string, number>();
  #tmpSeq = 0;
  #flushing: Promise<void> | undefined;

  constructor(
    dataDir: string,
    private readonly onError: (err: unknown, id: string) => void = () => undefined,
  ) {
    this.#dir = path.join(dataDir, 'sim');
    mkdirSync(this.#dir, { recursive: true });
    const files = readdirSync(this.#dir);
    this.#present = new Set(files.filter((f) => f.endsWith('.json')));
    // Temp files of writes a crash interrupted: the renamed file beside them is the last complete state.
    for (const f of files) if (f.endsWith('.tmp')) unlinkSync(path.join(this.#dir, f));
  }

  #file(id: string): string {
    return `${encodeURIComponent(id)}.json`;
  }

  load(id: string): PersistedQueue | undefined {
    const name = this.#file(id);
    if (!this.#present.has(name)) return undefined;
    try {
      const parsed = JSON.parse(readFileSync(path.join(this.#dir, name), 'utf8')) as PersistedQueue;
      return parsed.v === 1 ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  markDirty(p: Persistable): void {
    this.#dirty.set(p.id, p);
  }

  /** Write-ahead: the station's state is on disk when this returns (a crash after it cannot lose it). */
  writeNow(p: Persistable): void {
    this.#dirty.delete(p.id);
    this.#version.set(p.id, (this.#version.get(p.id) ?? 0) + 1);
    const name = this.#file(p.id);
    const full = path.join(this.#dir, name);
    const snap = p.snapshot();
    try {
      if (snap === undefined) {
        if (this.#present.delete(name) && existsSync(full)) unlinkSync(full);
        return;
      }
      const tmp = `${full}.${++this.#tmpSeq}.tmp`;
      writeFileSync(tmp, JSON.stringify(snap));
      renameSync(tmp, full);
      this.#present.add(name);
    } catch (err) {
      this.#dirty.set(p.id, p);
      this.onError(err, p.id);
    }
  }

  /** Forgets a station for good (removed by an operator). */
  remove(id: string): void {
    this.#dirty.delete(id);
    this.#version.set(id, (this.#version.get(id) ?? 0) + 1);
    const name = this.#file(id);
    if (!this.#present.delete(name)) return;
    try {
      unlinkSync(path.join(this.#dir, name));
    } catch {
      // already gone
    }
  }

  /** Writes every dirty station; at most one flush runs at a time. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushOnce().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    for (const w of this.#takeDirty()) {
      try {
        const current = (): boolean => (this.#version.get(w.p.id) ?? 0) === w.version;
        if (w.json === undefined) {
          if (current() && this.#present.delete(w.name) && existsSync(w.full)) unlinkSync(w.full);
          continue;
        }
        // Own temp name and a synchronous rename after the version check: a writeNow in between wins.
        const tmp = `${w.full}.${++this.#tmpSeq}.tmp`;
        await writeFile(tmp, w.json);
        if (!current()) {
          await unlink(tmp).catch(() => undefined);
          continue;
        }
        renameSync(tmp, w.full);
        this.#present.add(w.name);
      } catch (err) {
        // Keep it dirty: the next flush tries again (e.g. after a transient EMFILE / ENOSPC).
        if (!this.#dirty.has(w.p.id)) this.#dirty.set(w.p.id, w.p);
        this.onError(err, w.p.id);
      }
    }
  }

  /** Synchronous final write at shutdown. */
  flushSync(): void {
    for (const w of this.#takeDirty()) {
      try {
        if (w.json === undefined) {
          if (this.#present.delete(w.name) && existsSync(w.full)) unlinkSync(w.full);
          continue;
        }
        writeFileSync(`${w.full}.tmp`, w.json);
        renameSync(`${w.full}.tmp`, w.full);
        this.#present.add(w.name);
      } catch (err) {
        this.onError(err, w.p.id);
      }
    }
  }

  /** The dirty stations, each with its file and what to write (undefined: nothing queued, delete the file). */
  #takeDirty() {
    const batch = [...this.#dirty.values()];
    this.#dirty.clear();
    return batch.map((p) => {
      const name = this.#file(p.id);
      const snap = p.snapshot();
      return { p, name, full: path.join(this.#dir, name), json: snap ? JSON.stringify(snap) : undefined, version: this.#version.get(p.id) ?? 0 };
    });
  }
}
