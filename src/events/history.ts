// Bounded per-station history of sequenced events: replay by seq for clients that missed some, and the record
// from which seq and recent ids are restored after a restart. One JSON Lines file per station under
// <dataDir>/events/. Appends are batched and written with one synchronous write per station on the next turn of the
// event loop (and at process exit): cheap for the loop, and a crashing process loses at most the current turn's events.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { EventType, GatewayEvent } from './catalogue.js';

export interface HistoryQuery {
  readonly chargeBoxId?: string;
  /** A number: events with a greater seq (needs chargeBoxId). A string: events received at or after that ISO time. */
  readonly since?: number | string;
  readonly type?: EventType | readonly EventType[];
  readonly limit: number;
}

interface StationLog {
  events: GatewayEvent[];
  fd: number | undefined;
  /** Lines in the file, to know when to compact it. */
  lines: number;
  pending: string[];
}

export interface EventHistoryOptions {
  readonly dataDir: string;
  readonly perStation: number;
  readonly logger: Logger;
}

const MAX_OPEN_FILES = 256;

export class EventHistory {
  readonly #dir: string;
  readonly #cap: number;
  readonly #logger: Logger;
  readonly #stations = new Map<string, StationLog>();
  /** Stations whose file is open, least recently written first. */
  readonly #openFds = new Map<string, StationLog>();
  #scheduled = false;
  #writeErrors = 0;
  readonly #onExit = (): void => this.flush();

  constructor(opts: EventHistoryOptions) {
    this.#dir = path.join(opts.dataDir, 'events');
    this.#cap = Math.max(1, opts.perStation);
    this.#logger = opts.logger;
  }

  get writeErrors(): number {
    return this.#writeErrors;
  }

  /** Reads every station file back; a torn last line (crash mid-write) is skipped. */
  restore(): void {
    mkdirSync(this.#dir, { recursive: true });
    for (const name of readdirSync(this.#dir)) {
      if (!name.endsWith('.jsonl')) continue;
      const file = path.join(this.#dir, name);
      const events: GatewayEvent[] = [];
      let lines = 0;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        lines++;
        try {
          events.push(JSON.parse(line) as GatewayEvent);
        } catch {
          this.#logger.warn({ file }, 'skipping an unreadable history line');
        }
      }
      const first = events[0];
      if (!first) continue;
      events.sort((a, b) => a.seq - b.seq);
      const log: StationLog = { events: events.slice(-this.#cap), fd: undefined, lines, pending: [] };
      this.#stations.set(first.chargeBoxId, log);
      if (lines > 2 * this.#cap || events.length !== lines) this.#compact(first.chargeBoxId, log);
    }
    process.on('exit', this.#onExit);
  }

  append(event: GatewayEvent): void {
    const log = this.#log(event.chargeBoxId);
    log.events.push(event);
    // Trim in chunks so the ring costs O(1) amortised per append.
    if (log.events.length > this.#cap + Math.ceil(this.#cap / 4)) log.events.splice(0, log.events.length - this.#cap);
    log.pending.push(`${JSON.stringify(event)}\n`);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Events of one station with seq greater than `seq`, oldest first (as far back as the ring reaches). */
  since(chargeBoxId: string, seq: number): GatewayEvent[] {
    const events = this.#ring(chargeBoxId);
    return events.slice(firstAfter(events, seq));
  }

  firstSeq(chargeBoxId: string): number | undefined {
    return this.#ring(chargeBoxId)[0]?.seq;
  }

  lastSeq(chargeBoxId: string): number {
    const events = this.#ring(chargeBoxId);
    return events[events.length - 1]?.seq ?? 0;
  }

  /** The retained events of one station, oldest first. */
  recent(chargeBoxId: string): readonly GatewayEvent[] {
    return this.#ring(chargeBoxId);
  }

  stations(): string[] {
    return [...this.#stations.keys()];
  }

  /** With `since`, the first `limit` matches after it (paging forward); without, the newest `limit`, oldest first. */
  query(q: HistoryQuery): GatewayEvent[] {
    const types = q.type === undefined ? undefined : new Set<string>(typeof q.type === 'string' ? [q.type] : q.type);
    const sinceTime = typeof q.since === 'string' ? Date.parse(q.since) : undefined;
    const ids = q.chargeBoxId !== undefined ? [q.chargeBoxId] : [...this.#stations.keys()];
    let out: GatewayEvent[] = [];
    for (const id of ids) {
      let events = this.#ring(id);
      if (typeof q.since === 'number') events = events.slice(firstAfter(events, q.since));
      for (const e of events) {
        if (types && !types.has(e.type)) continue;
        if (sinceTime !== undefined && !(Date.parse(e.receivedAt) >= sinceTime)) continue;
        out.push(e);
      }
    }
    if (ids.length > 1) out.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : a.seq - b.seq));
    out = q.since === undefined ? out.slice(-q.limit) : out.slice(0, q.limit);
    return out;
  }

  /** Writes what is queued now. Synchronous so it can run at process exit. */
  flush(): void {
    this.#scheduled = false;
    for (const [id, log] of this.#stations) {
      if (log.pending.length === 0) continue;
      const text = log.pending.join('');
      const count = log.pending.length;
      log.pending = [];
      try {
        writeSync(this.#fdFor(id, log), text);
        log.lines += count;
        if (log.lines > 2 * this.#cap) this.#compact(id, log);
      } catch (err) {
        this.#writeErrors++;
        this.#logger.error({ err, chargeBoxId: id, events: count }, 'event history write failed');
      }
    }
  }

  close(): void {
    this.flush();
    process.off('exit', this.#onExit);
    for (const log of this.#stations.values()) this.#closeFd(log);
    this.#openFds.clear();
  }

  /**
   * The station's append descriptor. At most MAX_OPEN_FILES stay open (least recently used closed first):
   * with thousands of stations, one descriptor each would exhaust the process's limit next to their sockets.
   */
  #fdFor(chargeBoxId: string, log: StationLog): number {
    const open = this.#openFds.get(chargeBoxId);
    if (open !== undefined) {
      this.#openFds.delete(chargeBoxId);
      this.#openFds.set(chargeBoxId, open);
      return open.fd as number;
    }
    if (this.#openFds.size >= MAX_OPEN_FILES) {
      const [oldestId, oldest] = this.#openFds.entries().next().value as [string, StationLog];
      this.#openFds.delete(oldestId);
      this.#closeFd(oldest);
    }
    log.fd = openSync(this.#file(chargeBoxId), 'a');
    this.#openFds.set(chargeBoxId, log);
    return log.fd;
  }

  #closeFd(log: StationLog): void {
    if (log.fd !== undefined) closeSync(log.fd);
    log.fd = undefined;
  }

  #ring(chargeBoxId: string): GatewayEvent[] {
    const events = this.#stations.get(chargeBoxId)?.events ?? [];
    if (events.length > this.#cap) events.splice(0, events.length - this.#cap);
    return events;
  }

  #log(chargeBoxId: string): StationLog {
    let log = this.#stations.get(chargeBoxId);
    if (!log) this.#stations.set(chargeBoxId, (log = { events: [], fd: undefined, lines: 0, pending: [] }));
    return log;
  }

  /** Rewrites the file with the retained events only (write aside, then rename: never a half file). */
  #compact(chargeBoxId: string, log: StationLog): void {
    const events = this.#ring(chargeBoxId);
    const file = this.#file(chargeBoxId);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    this.#closeFd(log);
    this.#openFds.delete(chargeBoxId);
    renameSync(tmp, file);
    log.lines = events.length;
  }

  #file(chargeBoxId: string): string {
    return path.join(this.#dir, `${encodeURIComponent(chargeBoxId)}.jsonl`);
  }
}

/** Index of the first event with seq > `seq` (events are in seq order). */
function firstAfter(events: readonly GatewayEvent[], seq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
