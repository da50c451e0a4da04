// The binlog position of the last transaction whose events were handed to the bus, kept in DATA_DIR.
// Written atomically (tmp file + rename) so a crash leaves either the old or the new checkpoint, never half of one.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface Checkpoint {
  /** MariaDB GTID position ('0-1-1234') or MySQL GTID set; preferred for resuming. */
  readonly gtid?: string;
  readonly file?: string;
  readonly position?: number;
  /** Server id of the database the position belongs to (for the log). */
  readonly serverUuid?: string;
  readonly updatedAt: string;
}

export class CheckpointStore {
  readonly file: string;
  readonly #tmp: string;
  readonly #dir: string;
  #dirty = false;

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'cdc');
    this.file = path.join(this.#dir, 'checkpoint.json');
    this.#tmp = `${this.file}.tmp`;
  }

  load(): Checkpoint | undefined {
    let raw: string;
    try {
      raw = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = JSON.parse(raw) as Partial<Checkpoint>;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const hasGtid = typeof parsed.gtid === 'string';
    const hasPos = typeof parsed.file === 'string' && typeof parsed.position === 'number';
    if (!hasGtid && !hasPos) return undefined;
    return {
      ...(hasGtid ? { gtid: parsed.gtid as string } : {}),
      ...(hasPos ? { file: parsed.file as string, position: parsed.position as number } : {}),
      updatedAt: typeof parsed.updatedAt === 'string' ? parsed.updatedAt : '',
    };
  }

  /**
   * Replace the checkpoint. Without `durable` the data is not fsynced: that survives a crash of the process
   * (the write is in the page cache); `flush()` makes it survive a crash of the host too.
   */
  save(cp: Checkpoint, durable = false): void {
    mkdirSync(this.#dir, { recursive: true });
    const fd = openSync(this.#tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(cp));
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.#tmp, this.file);
    if (durable) this.#syncDir();
    this.#dirty = !durable;
  }

  /** fsync the latest checkpoint and its directory entry, if anything was written since the last flush. */
  flush(): void {
    if (!this.#dirty) return;
    const fd = openSync(this.file, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#syncDir();
    this.#dirty = false;
  }

  #syncDir(): void {
    const fd = openSync(this.#dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
