// The message log: every frame observation the relay emits becomes a numbered entry with findings, goes back on the
// bus as 'logged' and into day files. The bus listener only queues; the work happens in batches on setImmediate and
// the writes after that, so a frame never waits for the log. When the writer falls behind (more entries or more
// bytes waiting than the budgets allow), new entries are dropped and counted. Link changes take their place in the
// same queue and go back on the bus as 'loggedLink' in order with the entries (never dropped: they are few and small).
import path from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Bus } from '../events/bus.js';
import type { FrameObservation, LinkStateChange, LogEntry } from '../events/observations.js';
import { DEFAULT_MAX_RAW_BYTES, encodeLine, toLogEntry, type EncodedLine } from './entry.js';
import { IdSequence } from './ids.js';
import { scan, type MessageFilter } from './query.js';
import { MessageStore, type EncodedEntry } from './store.js';

export type { MessageFilter } from './query.js';

export interface MessageLogDeps {
  readonly bus: Bus;
  readonly dataDir: string;
  readonly retentionDays: number;
  /** Entries allowed to wait for processing or writing; beyond it new ones are dropped. */
  readonly queueLimit: number;
  /** Bytes (estimated, see entryCost) allowed to wait; beyond it new entries are dropped. Default 64 MiB. */
  readonly queueBytes?: number;
  /** Frames larger than this keep only their first part in the log (default 1 MiB). */
  readonly maxRawBytes?: number;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Wall clock in ms, for retention (tests move it). */
  readonly now?: () => number;
}

export interface MessageQuery extends MessageFilter {
  /** From a previous page's nextCursor. */
  readonly cursor?: string;
  /** 1..MAX_PAGE_LIMIT, default DEFAULT_PAGE_LIMIT. */
  readonly limit?: number;
}

export interface MessagePage {
  /** Newest first. */
  readonly entries: LogEntry[];
  /** Present when older matching entries may follow. */
  readonly nextCursor?: string;
}

/** A whole cluster's message log, paged by time across nodes (src/cluster implements it; the API serves it). */
export interface ClusterMessagesPort {
  parseCursor(text: string): object | undefined;
  page(q: MessageQuery & { readonly limit: number }, cursor: object | undefined): Promise<{ readonly entries: readonly string[]; readonly nextCursor?: string; readonly unanswered: readonly object[] }>;
}

export interface MessageLogStats {
  readonly written: number;
  /** Every entry lost: writer behind (by count or bytes), a failed write, an observation that could not be logged. */
  readonly dropped: number;
  /** Of `dropped`, those refused because the queue's byte budget was full. */
  readonly droppedForBytes: number;
  readonly queued: number;
  /** Estimated bytes waiting, against `queueBytesLimit`. */
  readonly queuedBytes: number;
  readonly queueBytesLimit: number;
}

export interface MessageLog {
  /** Restores ids and files, then starts listening to bus 'frame'. */
  start(): Promise<void>;
  /** Stops listening and writes everything still pending. */
  stop(): Promise<void>;
  query(q: MessageQuery): Promise<MessagePage>;
  /** Every matching entry, newest first, read lazily (for exports). */
  entries(filter: MessageFilter): AsyncGenerator<LogEntry>;
  stats(): MessageLogStats;
}

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
/** Observations turned into entries per turn of the event loop: keeps each turn short for the relay. */
const BATCH = 64;
/**
 * Raw characters turned into entries per turn (the first entry always is): encoding a frame of 1 MiB and handing
 * it to the 'logged' listeners takes milliseconds, so a batch holding several large frames would hold every
 * station's next frame for all of them. Measured in BENCHMARKS.md ("Fuzz: well-behaved p99 under hostile load").
 */
export const BATCH_CHARS = 256 * 1024;
/**
 * How long one turn of numbering may hold the event loop: with the 'logged' listeners (event model, push) an entry
 * costs tens of microseconds, so a full batch of 64 held every station's next frame for over a millisecond.
 */
const SLICE_MS = 0.25;
/** Entries per write. */
const WRITE_BATCH = 1024;
const RETENTION_CHECK_MS = 3_600_000;
/** How long a small batch waits for more entries before it is written. */
const WRITE_DELAY_MS = 50;
export const DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024;

/**
 * What an entry waiting in the queue costs, estimated without measuring objects: its raw text (2 bytes per UTF-16
 * unit at worst) and as much again for the parsed payload or the encoded line, plus a fixed part for the fields.
 */
export function entryCost(rawLength: number): number {
  return rawLength * 4 + 512;
}

/** An entry holds its raw text (cut short for a large frame, which then has no payload) and what derives from it. */
const sizeOf = (entry: LogEntry): number => entry.raw.length;

/** Page bytes (estimated as for the queue) after which a page ends early, with a cursor to the rest. */
const PAGE_BYTES = 32 * 1024 * 1024;
/** A cursor is the id of the last entry of a page; undefined when the text is not one. */
export function parseCursor(text: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : undefined;
}

export function createMessageLog(deps: MessageLogDeps): MessageLog {
  const { bus, logger, registry } = deps;
  const store = new MessageStore(deps.dataDir, deps.retentionDays, deps.now ?? Date.now, logger);
  const ids = new IdSequence(path.join(store.dir, 'next-id'));

  // Observations (and link changes) waiting to be numbered: queue[head..]. A moving head keeps taking a batch O(batch).
  let queue: (FrameObservation | LinkStateChange)[] = [];
  let head = 0;
  let pending: EncodedEntry[] = [];
  let inflight: EncodedEntry[] = [];
  let written = 0;
  let dropped = 0;
  let droppedForBytes = 0;
  /** Estimated bytes of queue[head..], pending and inflight. */
  let queuedBytes = 0;
  const queueBytes = deps.queueBytes ?? DEFAULT_QUEUE_BYTES;
  const maxRawBytes = deps.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES;
  let immediate: NodeJS.Immediate | undefined;
  let writing: Promise<void> | undefined;
  let writeTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  let started = false;

  const metricNames = [
    'chargebridge_message_log_dropped_total', 'chargebridge_message_log_written_total', 'chargebridge_message_log_queued',
    'chargebridge_message_log_queued_bytes', 'chargebridge_message_log_dropped_bytes_total',
  ];
  let droppedCounter: Counter | undefined;
  let writtenCounter: Counter | undefined;
  let droppedBytesCounter: Counter | undefined;

  const queued = (): number => queue.length - head + pending.length + inflight.length;

  const drop = (n: number): void => {
    dropped += n;
    droppedCounter?.inc(n);
  };

  // The bus listener: on the relay's stack, so it only counts or queues.
  const onFrame = (obs: FrameObservation): void => {
    if (queued() >= deps.queueLimit) return drop(1);
    const cost = entryCost(obs.raw.length);
    if (queuedBytes + cost > queueBytes) {
      droppedForBytes++;
      droppedBytesCounter?.inc(cost);
      return drop(1);
    }
    queuedBytes += cost;
    queue.push(obs);
    immediate ??= setImmediate(processBatch);
  };

  // A link change waits behind the frames observed before it, and always for a later turn: every 'link' listener
  // has seen it first (cluster ownership holds a station's events back before its connect becomes one).
  const onLink = (change: LinkStateChange): void => {
    queue.push(change);
    immediate ??= setImmediate(processBatch);
  };

  function announceLink(change: LinkStateChange): void {
    try {
      bus.emit('loggedLink', change);
    } catch (err) {
      logger.error({ err }, "message log: a 'loggedLink' listener threw");
    }
  }

  /** An observation or entry leaves the queue (written, or dropped on the way). */
  const release = (rawLength: number): void => {
    queuedBytes = Math.max(0, queuedBytes - entryCost(rawLength));
  };

  function processBatch(): void {
    immediate = undefined;
    numberEntries(BATCH, BATCH_CHARS, performance.now() + SLICE_MS);
    if (head < queue.length) immediate = setImmediate(processBatch);
  }

  /**
   * Turns up to `max` queued observations (and, after the first, up to `maxChars` of raw text) into entries,
   * announces them on the bus and hands them to the writer.
   */
  function numberEntries(max: number, maxChars = Infinity, deadline = Infinity): void {
    const start = head;
    const end = Math.min(queue.length, head + max);
    let chars = 0;
    while (head < end) {
      const item = queue[head]!;
      if ('kind' in item) {
        head++;
        announceLink(item);
        continue;
      }
      const obs = item;
      // The clock is read per entry: an entry with its 'logged' listeners costs tens of µs, so checking every 8th
      // let a slice run to several times SLICE_MS.
      if (head > start && (chars + obs.raw.length > maxChars || performance.now() >= deadline)) break;
      chars += obs.raw.length;
      head++;
      let entry: LogEntry;
      let line: EncodedLine;
      try {
        entry = toLogEntry(obs, ids.take(), maxRawBytes);
        line = encodeLine(entry);
      } catch (err) {
        logger.error({ err, chargeBoxId: obs.chargeBoxId }, 'message log: observation could not be logged');
        release(obs.raw.length);
        drop(1);
        continue;
      }
      // From here the entry is accounted by what it holds: its raw text as logged (cut short for a large frame).
      release(obs.raw.length);
      queuedBytes += entryCost(sizeOf(entry));
      pending.push({ entry, line });
      try {
        bus.emit('logged', entry);
      } catch (err) {
        logger.error({ err }, "message log: a 'logged' listener threw");
      }
    }
    // Let go of numbered observations: at once when all are done, otherwise once they are half the array.
    if (head === queue.length || head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    startWriter();
  }

  function startWriter(): void {
    if (writing !== undefined || pending.length === 0) return;
    // A few entries wait a moment for others: fewer, larger writes cost the event loop less per entry.
    if (started && pending.length < WRITE_BATCH) {
      writeTimer ??= setTimeout(beginWrite, WRITE_DELAY_MS);
      return;
    }
    beginWrite();
  }

  function beginWrite(): void {
    if (writeTimer) clearTimeout(writeTimer);
    writeTimer = undefined;
    if (writing !== undefined || pending.length === 0) return;
    writing = writeAll().finally(() => {
      writing = undefined;
      startWriter(); // entries numbered while the last write settled
    });
  }

  async function writeAll(): Promise<void> {
    while (pending.length > 0) {
      inflight = pending.length <= WRITE_BATCH ? pending : pending.slice(0, WRITE_BATCH);
      pending = pending.length <= WRITE_BATCH ? [] : pending.slice(WRITE_BATCH);
      try {
        await store.append(inflight);
        written += inflight.length;
        writtenCounter?.inc(inflight.length);
      } catch (err) {
        logger.error({ err, entries: inflight.length }, 'message log: write failed, entries dropped');
        drop(inflight.length);
        await store.close();
      }
      for (const { entry } of inflight) release(sizeOf(entry));
      inflight = [];
    }
  }

  function registerMetrics(): void {
    for (const name of metricNames) registry.removeSingleMetric(name);
    droppedCounter = new Counter({ name: 'chargebridge_message_log_dropped_total', help: 'Message-log entries dropped because the writer fell behind or a write failed', registers: [registry] });
    writtenCounter = new Counter({ name: 'chargebridge_message_log_written_total', help: 'Message-log entries written to the day files', registers: [registry] });
    droppedBytesCounter = new Counter({
      name: 'chargebridge_message_log_dropped_bytes_total',
      help: 'Estimated bytes of message-log entries dropped because MESSAGE_LOG_QUEUE_BYTES was full',
      registers: [registry],
    });
    new Gauge({
      name: 'chargebridge_message_log_queued_bytes',
      help: 'Estimated bytes of message-log entries waiting to be processed or written (budget MESSAGE_LOG_QUEUE_BYTES)',
      registers: [registry],
      collect() {
        this.set(queuedBytes);
      },
    });
    new Gauge({
      name: 'chargebridge_message_log_queued',
      help: 'Message-log entries waiting to be processed or written',
      registers: [registry],
      collect() {
        this.set(queued());
      },
    });
  }

  async function* entries(filter: MessageFilter): AsyncGenerator<LogEntry> {
    // Taken together, synchronously: entries written meanwhile are then found in exactly one of the two.
    const files = store.files();
    const onDisk = Math.max(0, ...files.map((f) => f.lastId));
    const tail = [...inflight, ...pending].flatMap(({ entry }) => (entry.id > onDisk ? [entry] : []));
    yield* scan(filter, tail, files);
  }

  return {
    async start() {
      const lastId = await store.open();
      await ids.restore(lastId);
      registerMetrics();
      const offFrame = bus.on('frame', onFrame);
      const offLink = bus.on('link', onLink);
      unsubscribe = () => {
        offFrame();
        offLink();
      };
      started = true;
      retentionTimer = setInterval(() => {
        store.applyRetention().catch((err: unknown) => logger.error({ err }, 'message log: retention failed'));
      }, RETENTION_CHECK_MS).unref();
      logger.info({ dir: store.dir, nextId: ids.next, retentionDays: deps.retentionDays }, 'message log started');
    },

    async stop() {
      if (!started) return;
      started = false;
      unsubscribe?.();
      unsubscribe = undefined;
      if (retentionTimer) clearInterval(retentionTimer);
      if (immediate) clearImmediate(immediate);
      immediate = undefined;
      numberEntries(Infinity);
      beginWrite();
      while (writing) await writing;
      ids.release();
      await store.close();
      logger.info({ written, dropped }, 'message log stopped');
    },

    async query(q) {
      const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) throw new RangeError(`limit must be an integer in 1..${MAX_PAGE_LIMIT}`);
      const { cursor, limit: _limit, ...filter } = q;
      let beforeId = filter.beforeId;
      if (cursor !== undefined) {
        const id = parseCursor(cursor);
        if (id === undefined) throw new RangeError('cursor is not one this log issued');
        beforeId = beforeId === undefined ? id : Math.min(beforeId, id);
      }
      const found: LogEntry[] = [];
      let bytes = 0;
      for await (const entry of entries(beforeId === undefined ? filter : { ...filter, beforeId })) {
        bytes += entryCost(typeof entry.raw === 'string' ? entry.raw.length : 0);
        // A page of large frames ends early (never empty): the cursor leads on to the rest.
        if (bytes > PAGE_BYTES && found.length > 0) return { entries: found, nextCursor: String((found.at(-1) as LogEntry).id) };
        found.push(entry);
        if (found.length > limit) break;
      }
      if (found.length <= limit) return { entries: found };
      const page = found.slice(0, limit);
      return { entries: page, nextCursor: String((page.at(-1) as LogEntry).id) };
    },

    entries,

    stats: () => ({ written, dropped, droppedForBytes, queued: queued(), queuedBytes, queueBytesLimit: queueBytes }),
  };
}
