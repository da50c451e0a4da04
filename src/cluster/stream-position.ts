// Where this node is in the shared event stream, kept in DATA_DIR/cluster so a restart resumes there (its history
// and seq counters are restored from DATA_DIR too). Written a tick behind what was read, never ahead of the history
// on disk; what is read twice is dropped by id in the sequencer.
import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class StreamPosition {
  readonly #file: string;
  #timer: NodeJS.Timeout | undefined;
  #written = '';

  constructor(dataDir: string) {
    const dir = path.join(dataDir, 'cluster');
    mkdirSync(dir, { recursive: true });
    this.#file = path.join(dir, 'stream-position');
  }

  /** '0' (the start of what the stream keeps) for a node that has never read it. */
  load(): string {
    try {
      const v = readFileSync(this.#file, 'utf8').trim();
      return /^\d+-\d+$/.test(v) ? v : '0';
    } catch {
      return '0';
    }
  }

  follow(current: () => string, everyMs = 1000): void {
    let previous = current();
    this.#timer = setInterval(() => {
      const now = current();
      const write = previous;
      previous = now;
      if (write === this.#written) return;
      this.#written = write;
      const tmp = `${this.#file}.tmp`;
      writeFile(tmp, write).then(() => rename(tmp, this.#file)).catch(() => undefined);
    }, everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
