// Reading the log newest first: the unwritten tail from memory, then each day file through its index, where a
// lookup table over the record's flag bits and two hashes decide which lines are worth reading at all.
import { open, type FileHandle } from 'node:fs/promises';
import type { Direction, Disposition, Leg, LogEntry, Origin } from '../events/observations.js';
import type { MessageTypeName } from '../ocpp/frames.js';
import { fromLine } from './entry.js';
import { DIRECTIONS, DISPOSITIONS, FLAG_VALUES, LEGS, MESSAGE_TYPES, ORIGINS, RECORD_BYTES, flagBits, fnv1a } from './record.js';
import { readRecordAt, type DayFile } from './store.js';
import { dayEndUs } from './time.js';

export interface MessageFilter {
  readonly chargeBoxId?: readonly string[];
  readonly action?: readonly string[];
  readonly direction?: readonly Direction[];
  readonly leg?: readonly Leg[];
  readonly messageType?: readonly MessageTypeName[];
  readonly origin?: readonly Origin[];
  readonly disposition?: readonly Disposition[];
  /** µs since the epoch, inclusive. */
  readonly sinceUs?: number;
  /** µs since the epoch, inclusive. */
  readonly untilUs?: number;
  readonly hasFindings?: boolean;
  /** Only entries older than this id (what a cursor carries). */
  readonly beforeId?: number;
}

/** Index records read at a time: few for the first page of a broad query, growing for sparse ones. */
const FIRST_CHUNK_RECORDS = 1024;
const MAX_CHUNK_RECORDS = 65_536;
const LINE_BATCH = 256;
const MAX_GAP_BYTES = 64 * 1024;
const MAX_SPAN_BYTES = 4 * 1024 * 1024;

const allows = <T>(list: readonly T[] | undefined, value: T | undefined): boolean =>
  list === undefined || (value !== undefined && list.includes(value));

/** The exact test, on a whole entry. The index only narrows down which lines reach it. */
export function matchesEntry(f: MessageFilter, e: LogEntry): boolean {
  return (
    (f.beforeId === undefined || e.id < f.beforeId) &&
    (f.sinceUs === undefined || e.atUs >= f.sinceUs) &&
    (f.untilUs === undefined || e.atUs <= f.untilUs) &&
    (f.hasFindings === undefined || f.hasFindings === e.findings.length > 0) &&
    allows(f.chargeBoxId, e.chargeBoxId) &&
    allows(f.action, e.action) &&
    allows(f.direction, e.direction) &&
    allows(f.leg, e.leg) &&
    allows(f.messageType, e.messageType) &&
    allows(f.origin, e.origin) &&
    allows(f.disposition, e.disposition)
  );
}

/** For every possible flag value: could a record with it match? */
function flagTable(f: MessageFilter): Uint8Array {
  const table = new Uint8Array(FLAG_VALUES);
  const parts: { mask: number; ok: Set<number> }[] = [];
  const part = <T>(values: readonly T[] | undefined, all: readonly T[], mask: number, bits: (i: number) => number): void => {
    if (values) parts.push({ mask, ok: new Set(values.map((v) => bits(all.indexOf(v)))) });
  };
  part(f.direction, DIRECTIONS, flagBits.masks.direction, flagBits.direction);
  part(f.leg, LEGS, flagBits.masks.leg, flagBits.leg);
  part(f.messageType, MESSAGE_TYPES, flagBits.masks.messageType, flagBits.messageType);
  part(f.origin, ORIGINS, flagBits.masks.origin, flagBits.origin);
  part(f.disposition, DISPOSITIONS, flagBits.masks.disposition, flagBits.disposition);
  if (f.hasFindings !== undefined) parts.push({ mask: flagBits.findings, ok: new Set([f.hasFindings ? flagBits.findings : 0]) });
  for (let flags = 0; flags < table.length; flags++) table[flags] = parts.every((p) => p.ok.has(flags & p.mask)) ? 1 : 0;
  return table;
}

interface Candidate {
  readonly offset: number;
  readonly length: number;
}

class IndexFilter {
  readonly #flags: Uint8Array;
  readonly #stations: Set<number> | undefined;
  readonly #actions: Set<number> | undefined;

  constructor(private readonly f: MessageFilter) {
    this.#flags = flagTable(f);
    this.#stations = f.chargeBoxId && new Set(f.chargeBoxId.map(fnv1a));
    this.#actions = f.action && new Set(f.action.map(fnv1a));
  }

  /** Records [0, count) of `buf`, newest first, that may match. */
  candidates(buf: Buffer, count: number): Candidate[] {
    const { sinceUs, untilUs } = this.f;
    const out: Candidate[] = [];
    for (let i = count - 1; i >= 0; i--) {
      const p = i * RECORD_BYTES;
      if (this.#flags[buf.readUInt16LE(p + 36)] !== 1) continue;
      const atUs = buf.readDoubleLE(p + 8);
      if ((sinceUs !== undefined && atUs < sinceUs) || (untilUs !== undefined && atUs > untilUs)) continue;
      if (this.#stations && !this.#stations.has(buf.readUInt32LE(p + 28))) continue;
      if (this.#actions && !this.#actions.has(buf.readUInt32LE(p + 32))) continue;
      out.push({ offset: buf.readDoubleLE(p + 16), length: buf.readUInt32LE(p + 24) });
    }
    return out;
  }
}

/** Number of records with an id below `beforeId` (ids grow within a file). */
async function countBefore(index: FileHandle, count: number, beforeId: number): Promise<number> {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((await readRecordAt(index, mid)).id < beforeId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Reads the candidates' lines, newest first, merging reads of lines that lie close together. */
async function* readLines(data: FileHandle, candidates: readonly Candidate[]): AsyncGenerator<string> {
  for (let i = 0; i < candidates.length; ) {
    // candidates run from high offsets to low: a span reaches down from the first one.
    const top = candidates[i] as Candidate;
    let j = i + 1;
    let low = top.offset;
    while (j < candidates.length) {
      const next = candidates[j] as Candidate;
      const nextEnd = next.offset + next.length;
      if (low - nextEnd > MAX_GAP_BYTES || top.offset + top.length - next.offset > MAX_SPAN_BYTES) break;
      low = next.offset;
      j++;
    }
    const span = Buffer.alloc(top.offset + top.length - low);
    await data.read(span, 0, span.length, low);
    for (let k = i; k < j; k++) {
      const c = candidates[k] as Candidate;
      yield span.toString('utf8', c.offset - low, c.offset - low + c.length);
    }
    i = j;
  }
}

async function openIfPresent(p: string): Promise<FileHandle | undefined> {
  try {
    return await open(p, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed by retention meanwhile
    throw err;
  }
}

async function* scanDay(file: DayFile, f: MessageFilter, filter: IndexFilter): AsyncGenerator<LogEntry> {
  const index = await openIfPresent(file.indexPath);
  const data = index && (await openIfPresent(file.dataPath));
  try {
    if (!index || !data) return;
    const end = f.beforeId === undefined ? file.count : await countBefore(index, file.count, f.beforeId);
    let chunk = FIRST_CHUNK_RECORDS;
    let buf = Buffer.alloc(chunk * RECORD_BYTES);
    for (let hi = end; hi > 0; ) {
      const lo = Math.max(0, hi - chunk);
      await index.read(buf, 0, (hi - lo) * RECORD_BYTES, lo * RECORD_BYTES);
      const candidates = filter.candidates(buf, hi - lo);
      for (let c = 0; c < candidates.length; c += LINE_BATCH) {
        for await (const line of readLines(data, candidates.slice(c, c + LINE_BATCH))) {
          let entry: LogEntry;
          try {
            entry = fromLine(line);
          } catch {
            continue; // the index pointed at something that is not an entry: never expected, never fatal
          }
          if (matchesEntry(f, entry)) yield entry;
        }
      }
      hi = lo;
      if (chunk < MAX_CHUNK_RECORDS) {
        chunk *= 4;
        buf = Buffer.alloc(chunk * RECORD_BYTES);
      }
    }
  } finally {
    await Promise.allSettled([index?.close(), data?.close()]);
  }
}

/**
 * All matching entries, newest first. `tail` (entries not yet on disk, oldest first) and `files` (oldest first)
 * must be taken at the same moment so that nothing is seen twice or missed.
 */
export async function* scan(f: MessageFilter, tail: readonly LogEntry[], files: readonly DayFile[]): AsyncGenerator<LogEntry> {
  for (let i = tail.length - 1; i >= 0; i--) {
    const entry = tail[i] as LogEntry;
    if (matchesEntry(f, entry)) yield entry;
  }
  const filter = new IndexFilter(f);
  for (let i = files.length - 1; i >= 0; i--) {
    const file = files[i] as DayFile;
    if (file.count === 0) continue;
    if (f.beforeId !== undefined && file.firstId >= f.beforeId) continue;
    // Every entry in a day file is from that day or earlier (see MessageStore.#dayFor).
    if (f.sinceUs !== undefined && f.sinceUs >= dayEndUs(file.day)) continue;
    yield* scanDay(file, f, filter);
  }
}
