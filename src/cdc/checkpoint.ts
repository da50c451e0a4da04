// The binlog position of the last transaction whose events were handed to the bus, kept in DATA_DIR/cdc.
// Two layers, both crash-safe:
//  - checkpoint.json: written atomically (tmp file + fsync + rename), at most ~1 s behind, off the event loop;
//  - two journal slots (slot-0, slot-1), overwritten in turn after every transaction with events: one small
//    in-place write (microseconds; a rename can stall the loop for tens of ms). Each record carries a sequence
//    number and a CRC-32, so a torn write leaves the other slot (or checkpoint.json) as the newest valid one.
// load() takes the newest valid of the three.
import { createHash } from 'node:crypto';
import { closeSync, constants, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

export interface Checkpoint {
  /** MariaDB GTID position ('0-1-1234') or MySQL GTID set; preferred for resuming. */
  readonly gtid?: string;
  readonly file?: string;
  readonly position?: number;
  readonly updatedAt: string;
}

interface Record {
  readonly seq: number;
  readonly checkpoint: Checkpoint;
}

const SLOT_BYTES = 1024;

/**
 * What tells a whole slot from a torn one. A CRC-32 (8 hex digits) since 2026-12-08: it is written once per
 * transaction with events, and a SHA-256 hash object cost 35 µs of each ~80 µs save (BENCHMARKS.md, "The
 * checkpoint's cost"); a torn write is not an adversary. Slots written before carry the first 32 hex digits of a
 * SHA-256, and are still read.
 */
function digest(json: string): string {
  return crc32(json).toString(16).padStart(8, '0');
}

function matches(json: string, hash: string): boolean {
  return hash.length === 32 ? createHash('sha256').update(json).digest('hex').slice(0, 32) === hash : digest(json) === hash;
}

function valid(cp: Partial<Checkpoint> | undefined): Checkpoint | undefined {
  if (typeof cp !== 'object' || cp === null) return undefined;
  const hasGtid = typeof cp.gtid === 'string';
  const hasPos = typeof cp.file === 'string' && typeof cp.position === 'number';
  if (!hasGtid && !hasPos) return undefined;
  return {
    ...(hasGtid ? { gtid: cp.gtid as string } : {}),
    ...(hasPos ? { file: cp.file as string, position: cp.position as number } : {}),
    updatedAt: typeof cp.updatedAt === 'string' ? cp.updatedAt : '',
  };
}

export class CheckpointStore {
  readonly file: string;
  readonly #dir: string;
  readonly #slots: [string, string];
  #fds: [number, number] | undefined;
  readonly #slotBuffer = Buffer.allocUnsafe(SLOT_BYTES);
  #seq = 0;
  #latest: Record | undefined;
  #flushedSeq = 0;
  #flushing = false;

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'cdc');
    this.file = path.join(this.#dir, 'checkpoint.json');
    this.#slots = [path.join(this.#dir, 'slot-0'), path.join(this.#dir, 'slot-1')];
  }

  load(): Checkpoint | undefined {
    const candidates: Record[] = [];
    const main = this.#read(this.file, (raw) => {
      const parsed = JSON.parse(raw) as Partial<Checkpoint> & { seq?: number };
      const cp = valid(parsed);
      return cp ? { seq: typeof parsed.seq === 'number' ? parsed.seq : 0, checkpoint: cp } : undefined;
    });
    if (main) candidates.push(main);
    for (const slot of this.#slots) {
      const rec = this.#read(slot, (raw) => {
        const [json, hash] = raw.split('\n');
        if (json === undefined || hash === undefined || !matches(json, hash)) return undefined;
        const parsed = JSON.parse(json) as { seq?: number; checkpoint?: Partial<Checkpoint> };
        const cp = valid(parsed.checkpoint);
        return cp && typeof parsed.seq === 'number' ? { seq: parsed.seq, checkpoint: cp } : undefined;
      });
      if (rec) candidates.push(rec);
    }
    const best = candidates.sort((a, b) => b.seq - a.seq)[0];
    this.#seq = best?.seq ?? 0;
    this.#flushedSeq = main?.seq ?? 0;
    this.#latest = best;
    return best?.checkpoint;
  }

  /**
   * Record the checkpoint. The journal slot write survives a crash of the process at once (page cache);
   * `durable` also writes and fsyncs checkpoint.json synchronously (start of streaming, stop).
   */
  save(cp: Checkpoint, durable = false): void {
    this.#seq += 1;
    const rec: Record = { seq: this.#seq, checkpoint: cp };
    this.#latest = rec;
    const json = JSON.stringify(rec);
    const body = `${json}\n${digest(json)}\n`;
    // One slot-sized buffer, reused: the record, then spaces to the slot's end (what was there before is covered).
    const buf = this.#slotBuffer;
    const n = buf.write(body, 0);
    // Only a buffer filled to its last few bytes can have cut the record short (a character is at most 4 bytes).
    if (n <= SLOT_BYTES - 4 || (n < SLOT_BYTES && Buffer.byteLength(body) === n)) {
      buf.fill(0x20, n);
      writeSync(this.#open()[this.#seq % 2]!, buf, 0, SLOT_BYTES, 0);
    } else {
      durable = true; // an unusually long GTID set: take the slow, always-correct path
    }
    if (durable) this.#writeMainSync(rec);
  }

  /** Bring checkpoint.json up to the latest record (tmp + fsync + rename, in the thread pool). */
  async flush(): Promise<void> {
    const rec = this.#latest;
    if (!rec || rec.seq === this.#flushedSeq || this.#flushing) return;
    this.#flushing = true;
    try {
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, JSON.stringify({ seq: rec.seq, ...rec.checkpoint }));
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
      const dir = await open(this.#dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.#flushedSeq = Math.max(this.#flushedSeq, rec.seq);
    } finally {
      this.#flushing = false;
    }
  }

  close(): void {
    if (!this.#fds) return;
    for (const fd of this.#fds) {
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    this.#fds = undefined;
  }

  #open(): [number, number] {
    if (!this.#fds) {
      mkdirSync(this.#dir, { recursive: true });
      const flags = constants.O_RDWR | constants.O_CREAT;
      this.#fds = [openSync(this.#slots[0], flags, 0o600), openSync(this.#slots[1], flags, 0o600)];
    }
    return this.#fds;
  }

  #writeMainSync(rec: Record): void {
    mkdirSync(this.#dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ seq: rec.seq, ...rec.checkpoint }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dir = openSync(this.#dir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.#flushedSeq = rec.seq;
  }

  #read(file: string, parse: (raw: string) => Record | undefined): Record | undefined {
    try {
      return parse(readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
  }
}
