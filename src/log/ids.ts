// Monotonic entry ids that never repeat, not even after a crash that loses the unwritten tail: ids are handed out
// from a block reserved on disk ahead of use, so a restart after a crash skips the rest of the block (a gap, never a repeat).
import { renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const BLOCK = 10_000;

export class IdSequence {
  #next = 1;
  #reservedUpTo = 0;

  constructor(private readonly file: string) {}

  /** Continues after the highest id found in the files and after any block a previous run reserved. */
  async restore(lastWrittenId: number): Promise<void> {
    let reserved = 0;
    try {
      const n = Number((await readFile(this.file, 'utf8')).trim());
      if (Number.isSafeInteger(n) && n > 0) reserved = n;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.#next = Math.max(lastWrittenId + 1, reserved, 1);
    this.#reservedUpTo = this.#next;
  }

  /** Synchronous on purpose: the reservation must be on disk before the id leaves the log on the bus. */
  take(): number {
    const id = this.#next++;
    if (id >= this.#reservedUpTo) this.#persist(id + BLOCK);
    return id;
  }

  get next(): number {
    return this.#next;
  }

  /** After a clean flush: give back the unused part of the block so a graceful restart leaves no gap. */
  release(): void {
    this.#persist(this.#next);
  }

  #persist(upTo: number): void {
    writeFileSync(`${this.file}.tmp`, `${upTo}\n`);
    renameSync(`${this.file}.tmp`, this.file);
    this.#reservedUpTo = upTo;
  }
}
