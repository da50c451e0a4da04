// The files of the message log: dataDir/messages/YYYY-MM-DD.jsonl (append-only JSON Lines, one per UTC day) and a
// binary index beside each (YYYY-MM-DD.v1.idx, see record.ts). The index is a cache: it is checked against its day
// file at start-up and rebuilt from the lines when it is missing, short or ahead of them (a crash between the two
// writes). Its name carries the record layout's version, so an upgrade rebuilds old indexes and deletes them.
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LogEntry } from '../events/observations.js';
import { frameMark, RAW_MARK, storedOf, type EncodedLine } from './entry.js';
import { escapedBytes, writeEscaped } from './json-string.js';
import { RECORD_BYTES, readRecord, recordOf, writeRecord, type IndexRecord } from './record.js';
import { dayEndUs, utcDay } from './time.js';

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const INDEX_SUFFIX = '.v1.idx';
const OTHER_INDEX = /^\d{4}-\d{2}-\d{2}\..*idx$/;
const SCAN_CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const RAW_MARK_BYTES = Buffer.byteLength(RAW_MARK);

/** An encoded line with the bytes its text takes (escaped for a `raw` line), counted once before the batch is sized. */
interface Sized {
  readonly line: EncodedLine;
  /** What goes between the head and the text (all ASCII; none on a `whole` line). */
  readonly mark: string;
  readonly textBytes: number;
  /** The whole line's bytes, its newline included. */
  readonly bytes: number;
}

function sized(line: EncodedLine): Sized {
  const head = Buffer.byteLength(line.head);
  if (line.kind === 'whole') return { line, mark: '', textBytes: 0, bytes: head + 1 };
  if (line.kind === 'frame') {
    const mark = frameMark(line.text);
    const textBytes = Buffer.byteLength(line.text);
    return { line, mark, textBytes, bytes: head - 1 + mark.length + textBytes + 2 };
  }
  const textBytes = escapedBytes(line.text);
  return { line, mark: RAW_MARK, textBytes, bytes: head - 1 + RAW_MARK_BYTES + textBytes + 3 };
}

/** Writes the line and its newline into `buf` at `at` (the head's closing brace gives way to what follows it). */
function writeLine(buf: Buffer, at: number, { line, mark, textBytes, bytes }: Sized): void {
  let end = at + buf.write(line.head, at);
  if (line.kind === 'frame') {
    end = end - 1 + buf.write(mark, end - 1, 'latin1');
    end += buf.write(line.text, end);
    buf[end++] = CLOSE_BRACE;
  } else if (line.kind === 'raw') {
    end = end - 1 + buf.write(mark, end - 1, 'latin1');
    writeEscaped(buf, end, line.text, textBytes);
    end += textBytes;
    buf[end++] = QUOTE;
    buf[end++] = CLOSE_BRACE;
  }
  buf[end++] = NEWLINE;
  if (end - at !== bytes) throw new Error(`message log: a line of ${end - at} bytes where ${bytes} were counted`);
}

/**
 * A batch's lines in one buffer, newlines included: no Buffer per line, no concatenation copy. `bytes[i]` is line
 * i's size (its newline included).
 */
export function encodeLines(lines: readonly EncodedLine[]): { readonly buf: Buffer; readonly bytes: number[] } {
  const all = lines.map(sized);
  let total = 0;
  for (const l of all) total += l.bytes;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (const l of all) {
    writeLine(buf, at, l);
    at += l.bytes;
  }
  return { buf, bytes: all.map((l) => l.bytes) };
}

/** An entry with its line already encoded (done in the log's small batches, not in one long write). */
export interface EncodedEntry {
  readonly entry: LogEntry;
  /** The line in its parts (encodeLine): the store joins them and adds the newline. */
  readonly line: EncodedLine;
}

export interface DayFile {
  readonly day: string;
  readonly dataPath: string;
  readonly indexPath: string;
  /** Index records that are on disk and point at complete lines. */
  count: number;
  firstId: number;
  lastId: number;
  dataSize: number;
}

interface OpenDay {
  readonly file: DayFile;
  readonly data: FileHandle;
  readonly index: FileHandle;
}

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function readRecordAt(fh: FileHandle, i: number): Promise<IndexRecord> {
  const buf = Buffer.alloc(RECORD_BYTES);
  await fh.read(buf, 0, RECORD_BYTES, i * RECORD_BYTES);
  return readRecord(buf, 0);
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) done += (await fh.write(buf, done, buf.length - done)).bytesWritten;
}

export class MessageStore {
  readonly dir: string;
  readonly #files = new Map<string, DayFile>();
  #open: OpenDay | undefined;
  /** Files are chosen by max(last day written, the entry's day), so ids only ever grow from one file to the next. */
  #lastDay = '';

  constructor(
    dataDir: string,
    private readonly retentionDays: number,
    private readonly nowMs: () => number,
    private readonly logger: Logger,
  ) {
    this.dir = path.join(dataDir, 'messages');
  }

  /** Checks every day file against its index, applies retention; returns the highest id on disk (0 if none). */
  async open(): Promise<number> {
    await mkdir(this.dir, { recursive: true });
    const names = await readdir(this.dir);
    for (const name of names) if (OTHER_INDEX.test(name) && !name.endsWith(INDEX_SUFFIX)) await rm(path.join(this.dir, name), { force: true });
    const days = names.flatMap((name) => DAY_FILE.exec(name)?.[1] ?? []).sort();
    for (const day of days) {
      const file = this.#dayFile(day);
      await this.#reconcile(file);
      this.#files.set(day, file);
    }
    await this.applyRetention();
    const newest = [...this.#files.values()].at(-1);
    this.#lastDay = newest?.day ?? '';
    return Math.max(0, ...[...this.#files.values()].map((f) => f.lastId));
  }

  /** Oldest first; a snapshot of what a reader may use (counts only grow after it). */
  files(): DayFile[] {
    return [...this.#files.values()].map((f) => ({ ...f }));
  }

  /** Appends entries (already in id order): lines first, then their index records. */
  async append(entries: readonly EncodedEntry[]): Promise<void> {
    let start = 0;
    while (start < entries.length) {
      const day = this.#dayFor((entries[start] as EncodedEntry).entry);
      let end = start + 1;
      while (end < entries.length && this.#dayFor((entries[end] as EncodedEntry).entry) === day) end++;
      await this.#appendDay(day, entries.slice(start, end));
      start = end;
    }
  }

  /** Deletes day files whose day ended more than retentionDays days ago. */
  async applyRetention(): Promise<void> {
    const cutoffUs = (this.nowMs() - this.retentionDays * 86_400_000) * 1000;
    for (const file of [...this.#files.values()]) {
      if (dayEndUs(file.day) > cutoffUs || this.#open?.file === file) continue;
      this.#files.delete(file.day);
      await rm(file.indexPath, { force: true });
      await rm(file.dataPath, { force: true });
      this.logger.info({ day: file.day }, 'message log: day file removed by retention');
    }
  }

  /** Also used after a failed write: the next append reopens the day, which re-checks the tail of its files. */
  async close(): Promise<void> {
    const current = this.#open;
    this.#open = undefined;
    if (current) await Promise.allSettled([current.data.close(), current.index.close()]);
  }

  #dayFor(entry: LogEntry): string {
    const day = utcDay(entry.atUs);
    if (day > this.#lastDay) this.#lastDay = day;
    return this.#lastDay;
  }

  #dayFile(day: string): DayFile {
    return {
      day,
      dataPath: path.join(this.dir, `${day}.jsonl`),
      indexPath: path.join(this.dir, `${day}${INDEX_SUFFIX}`),
      count: 0,
      firstId: 0,
      lastId: 0,
      dataSize: 0,
    };
  }

  async #appendDay(day: string, entries: readonly EncodedEntry[]): Promise<void> {
    const { file, data, index } = await this.#openDay(day);
    const records = Buffer.alloc(entries.length * RECORD_BYTES);
    const { buf, bytes } = encodeLines(entries.map((e) => e.line));
    let offset = file.dataSize;
    entries.forEach(({ entry }, i) => {
      const length = bytes[i] as number;
      writeRecord(records, i * RECORD_BYTES, recordOf(entry, offset, length - 1));
      offset += length;
    });
    await writeAll(data, buf);
    file.dataSize = offset;
    await writeAll(index, records);
    if (file.count === 0) file.firstId = (entries[0] as EncodedEntry).entry.id;
    file.count += entries.length;
    file.lastId = (entries.at(-1) as EncodedEntry).entry.id;
  }

  async #openDay(day: string): Promise<OpenDay> {
    if (this.#open?.file.day === day) return this.#open;
    await this.close();
    const known = this.#files.get(day);
    const file = known ?? this.#dayFile(day);
    if (known) await this.#reconcile(file);
    const data = await open(file.dataPath, 'a+');
    const index = await open(file.indexPath, 'a');
    if (file.dataSize > 0) {
      // A torn last line (crash mid-write) is closed off so the next line starts clean; readers skip the torn one.
      const last = Buffer.alloc(1);
      await data.read(last, 0, 1, file.dataSize - 1);
      if (last[0] !== NEWLINE) {
        await writeAll(data, Buffer.from('\n'));
        file.dataSize += 1;
      }
    }
    this.#files.set(day, file);
    this.#open = { file, data, index };
    if (!known) await this.applyRetention();
    return this.#open;
  }

  /** Makes the index agree with the day file: drops records past the data, indexes lines the index lacks. */
  async #reconcile(file: DayFile): Promise<void> {
    const dataSize = await sizeOf(file.dataPath);
    if (dataSize === undefined) {
      await rm(file.indexPath, { force: true });
      Object.assign(file, { count: 0, firstId: 0, lastId: 0, dataSize: 0 });
      return;
    }
    const index = await open(file.indexPath, 'a+');
    try {
      let count = Math.floor((await index.stat()).size / RECORD_BYTES);
      let last = count > 0 ? await readRecordAt(index, count - 1) : undefined;
      while (last && last.offset + last.length + 1 > dataSize) {
        count--;
        last = count > 0 ? await readRecordAt(index, count - 1) : undefined;
      }
      await index.truncate(count * RECORD_BYTES);
      const covered = last ? last.offset + last.length + 1 : 0;
      let added = 0;
      if (covered < dataSize) added = await this.#indexLines(file, index, covered, dataSize);
      count += added;
      file.count = count;
      file.dataSize = dataSize;
      file.firstId = count > 0 ? (await readRecordAt(index, 0)).id : 0;
      file.lastId = count > 0 ? (await readRecordAt(index, count - 1)).id : 0;
      if (added > 0) this.logger.info({ day: file.day, indexed: added }, 'message log: index caught up with its day file');
    } finally {
      await index.close();
    }
  }

  /** Reads complete lines from `from` to `to` and appends their index records; lines that are not entries are skipped. */
  async #indexLines(file: DayFile, index: FileHandle, from: number, to: number): Promise<number> {
    const data = await open(file.dataPath, 'r');
    let added = 0;
    try {
      let carry = Buffer.alloc(0);
      let carryAt = from;
      for (let pos = from; pos < to; ) {
        const chunk = Buffer.alloc(Math.min(SCAN_CHUNK, to - pos));
        const { bytesRead } = await data.read(chunk, 0, chunk.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
        const records: Buffer[] = [];
        let lineStart = 0;
        for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, lineStart)) {
          const record = this.#recordOfLine(buf.subarray(lineStart, nl), carryAt + lineStart);
          if (record) records.push(record);
          lineStart = nl + 1;
        }
        carry = Buffer.from(buf.subarray(lineStart));
        carryAt += lineStart;
        if (records.length > 0) {
          await writeAll(index, Buffer.concat(records));
          added += records.length;
        }
      }
    } finally {
      await data.close();
    }
    return added;
  }

  #recordOfLine(line: Buffer, offset: number): Buffer | undefined {
    let entry: LogEntry;
    try {
      entry = storedOf(line.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof entry !== 'object' || entry === null || typeof entry.id !== 'number' || typeof entry.atUs !== 'number' || !Array.isArray(entry.findings)) return undefined;
    const buf = Buffer.alloc(RECORD_BYTES);
    writeRecord(buf, 0, recordOf(entry, offset, line.length));
    return buf;
  }
}
