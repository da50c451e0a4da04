// Transaction ids for the embedded central system that never repeat, even after a crash:
// ids are reserved in blocks and the block end is persisted (atomically) before any id of it is handed out.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const BLOCK = 100;

export class TransactionIds {
  readonly #file: string;
  #next: number;
  #reservedUpTo: number;

  constructor(dataDir: string) {
    const dir = path.join(dataDir, 'local-cs');
    mkdirSync(dir, { recursive: true });
    this.#file = path.join(dir, 'transaction-id');
    let saved = 0;
    try {
      saved = Number.parseInt(readFileSync(this.#file, 'utf8'), 10) || 0;
    } catch {
      // first start
    }
    this.#next = saved + 1;
    this.#reservedUpTo = saved;
  }

  next(): number {
    if (this.#next > this.#reservedUpTo) this.#reserve(this.#next + BLOCK - 1);
    return this.#next++;
  }

  #reserve(upTo: number): void {
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, String(upTo));
    renameSync(tmp, this.#file);
    this.#reservedUpTo = upTo;
  }
}
