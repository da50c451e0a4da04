// Per-board device log: the free-text debug lines a board prints on its UART between frames. Each line gets a
// per-board sequence number that survives restarts (its event id), goes to disk with size-based rotation, and
// is emitted on the bus as a deviceLog event. All of it happens after the current serial chunk is handled, so
// debug text never delays a frame.
import { closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pino from 'pino';
import type { Bus } from '../events/bus.js';
import { nodeScopedId } from '../events/sequencer.js';

export interface DeviceLogLine {
  /** Per-board sequence number, increasing by one per line, kept across restarts. */
  readonly n: number;
  readonly at: string;
  readonly line: string;
}

export interface DeviceLogOptions {
  readonly dir: string;
  readonly maxFileBytes: number;
  /** Files kept per board, the current one included. */
  readonly files: number;
  readonly bus: Bus;
  readonly logger: pino.Logger;
  readonly onLine?: () => void;
  /** Cluster mode: this node's id, put in the events' ids. A board's lines are numbered in this node's files, so a
   * board moved to another node would otherwise have its new lines taken for repeats of old ones. */
  readonly idScope?: () => string;
}

interface BoardLog {
  readonly file: string;
  n: number;
  size: number;
  pending: string[];
  writing: Promise<void>;
}

const MENTIONS_AUTHORIZATION_KEY = /authorizationkey/i;

/** File names are the chargeBoxId made safe for any file system. */
function fileBase(chargeBoxId: string): string {
  return encodeURIComponent(chargeBoxId).replace(/\./g, '%2E').replace(/\*/g, '%2A');
}

/** The last sequence number in a log file: read from its tail only. */
function lastN(file: string): number {
  if (!existsSync(file)) return 0;
  const size = statSync(file).size;
  if (size === 0) return 0;
  const len = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(len);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, len, size - len);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n').filter((l) => l !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const { n } = JSON.parse(lines[i] as string) as { n?: unknown };
      if (typeof n === 'number') return n;
    } catch {
      // a torn last line after a crash: look at the one before
    }
  }
  return 0;
}

export class DeviceLogStore {
  readonly #boards = new Map<string, BoardLog>();
  #queue: { chargeBoxId: string; line: string; at: Date }[] = [];
  #scheduled = false;

  constructor(private readonly options: DeviceLogOptions) {
    mkdirSync(options.dir, { recursive: true });
  }

  /** Takes one line; the write and the event follow on the next turn of the event loop. */
  append(chargeBoxId: string, line: string, at: Date = new Date()): void {
    // A board that echoes its OCPP traffic (MicroOcpp's traffic debug) would print a new AuthorizationKey in clear.
    if (MENTIONS_AUTHORIZATION_KEY.test(line)) line = `<redacted: a debug line of ${Buffer.byteLength(line)} bytes mentioning AuthorizationKey>`;
    this.#queue.push({ chargeBoxId, line, at });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
  }

  #drain(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    const touched = new Set<BoardLog>();
    for (const { chargeBoxId, line, at } of queue) {
      const board = this.#board(chargeBoxId);
      const n = ++board.n;
      const iso = at.toISOString();
      board.pending.push(JSON.stringify({ n, at: iso, line } satisfies DeviceLogLine) + '\n');
      touched.add(board);
      this.options.onLine?.();
      this.options.bus.emit('eventInput', {
        id: nodeScopedId(this.options.idScope, `serial-log:${chargeBoxId}:${n}`),
        type: 'deviceLog',
        chargeBoxId,
        timestamp: iso,
        receivedAt: iso,
        source: 'station',
        data: { line },
      });
    }
    for (const board of touched) this.#write(board);
  }

  #board(chargeBoxId: string): BoardLog {
    let board = this.#boards.get(chargeBoxId);
    if (!board) {
      const file = path.join(this.options.dir, `${fileBase(chargeBoxId)}.jsonl`);
      // After a rotation the current file may be empty: the last number is then in the newest rotated file.
      const n = lastN(file) || lastN(this.#rotated(file, 1));
      board = { file, n, size: existsSync(file) ? statSync(file).size : 0, pending: [], writing: Promise.resolve() };
      this.#boards.set(chargeBoxId, board);
    }
    return board;
  }

  #rotated(file: string, k: number): string {
    return file.replace(/\.jsonl$/, `.${k}.jsonl`);
  }

  #write(board: BoardLog): void {
    board.writing = board.writing.then(async () => {
      const lines = board.pending;
      board.pending = [];
      try {
        // Lines go out in as few appends as possible, but a file is rotated before it would pass the limit.
        let chunk = '';
        let chunkBytes = 0;
        for (const line of lines) {
          const bytes = Buffer.byteLength(line);
          if (board.size + chunkBytes + bytes > this.options.maxFileBytes && board.size + chunkBytes > 0) {
            if (chunk !== '') await appendFile(board.file, chunk);
            chunk = '';
            chunkBytes = 0;
            this.#rotate(board);
          }
          chunk += line;
          chunkBytes += bytes;
        }
        if (chunk !== '') await appendFile(board.file, chunk);
        board.size += chunkBytes;
      } catch (err) {
        this.options.logger.error({ err, file: board.file }, 'device log write failed');
      }
    });
  }

  #rotate(board: BoardLog): void {
    const keep = this.options.files;
    if (keep <= 1) {
      rmSync(board.file, { force: true });
    } else {
      rmSync(this.#rotated(board.file, keep - 1), { force: true });
      for (let k = keep - 2; k >= 1; k--) {
        const from = this.#rotated(board.file, k);
        if (existsSync(from)) renameSync(from, this.#rotated(board.file, k + 1));
      }
      renameSync(board.file, this.#rotated(board.file, 1));
    }
    board.size = 0;
  }

  /** Resolves when every line taken so far is on disk. */
  async flush(): Promise<void> {
    if (this.#scheduled || this.#queue.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all([...this.#boards.values()].map((b) => b.writing));
  }

  /**
   * Lines of one board, oldest first: those after `after` (a sequence number) when given, else the newest ones.
   * At most `limit`.
   */
  async read(chargeBoxId: string, opts: { after?: number; limit: number }): Promise<DeviceLogLine[]> {
    await this.flush();
    const file = path.join(this.options.dir, `${fileBase(chargeBoxId)}.jsonl`);
    const files = [];
    for (let k = this.options.files - 1; k >= 1; k--) files.push(this.#rotated(file, k));
    files.push(file);
    const lines: DeviceLogLine[] = [];
    for (const f of files) {
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch {
        continue;
      }
      for (const l of text.split('\n')) {
        if (l === '') continue;
        try {
          const entry = JSON.parse(l) as DeviceLogLine;
          if (opts.after === undefined || entry.n > opts.after) lines.push(entry);
        } catch {
          // torn line after a crash
        }
      }
    }
    return opts.after === undefined ? lines.slice(-opts.limit) : lines.slice(0, opts.limit);
  }
}
