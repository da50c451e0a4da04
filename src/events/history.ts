// Bounded per-station history of sequenced events: replay by seq for clients that missed some, and the record
// from which seq and recent ids are restored after a restart. All stations share one append-only journal cut into
// segments (<dataDir>/events/journal-<n>.jsonl): one descriptor and one write per event-loop turn whatever the
// number of stations, where a file per station cost an open and close per station per turn and ran the process out
// of descriptors at 10,000 stations. The write is synchronous on the next turn and at exit, so a crash loses at
// most the current turn's events. A closed segment goes once the rings hold none of its events; one held only by
// a few events of quiet stations is compacted (those events copied forward, same seq and id, then the segment
// deleted). A crash between copy and delete leaves duplicates, so restore() keeps one event per seq.
// Memory is bounded in bytes as well as in count: per station and in total (the station holding the most gives way
// first, so a station sending large events pushes out its own history, not its neighbours'), and one event larger
// than maxEventBytes, or nested too deep to serialise safely, is kept as a finding that says so.
import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { EventType, GatewayEvent } from './catalogue.js';
import { eventCost, keepable, Ring, type Keepable } from './history-ring.js';

export interface HistoryQuery {
  readonly chargeBoxId?: string;
  /** A number: events with a greater seq (needs chargeBoxId). A string: events received at or after that ISO time. */
  readonly since?: number | string;
  readonly type?: EventType | readonly EventType[];
  readonly limit: number;
}

export interface EventHistoryOptions {
  readonly dataDir: string;
  readonly perStation: number;
  readonly logger: Logger;
  /** The journal starts a new segment once the current one reaches this many bytes (default 64 MiB)... */
  readonly segmentBytes?: number;
  /** ...or this many lines (default 200,000). */
  readonly segmentLines?: number;
  /** Estimated bytes of retained events per station (default 2 MiB); the oldest go first. */
  readonly stationBytes?: number;
  /** Estimated bytes of retained events over all stations (default 256 MiB); the largest station gives way. */
  readonly totalBytes?: number;
  /** An event whose JSON is longer than this is kept as a finding saying so (default 64 KiB). */
  readonly maxEventBytes?: number;
}

/** Byte budgets of the history and what they cost so far, for /api/health and metrics. */
export interface HistoryBudget {
  readonly usedBytes: number;
  readonly stationBytesLimit: number;
  readonly totalBytesLimit: number;
  readonly maxEventBytes: number;
  /** The largest station's retained bytes. */
  readonly largestStationBytes: number;
  /** Events pushed out before their count limit because a station's byte budget was full. */
  readonly droppedForStationBytes: number;
  /** Events pushed out because the total byte budget was full. */
  readonly droppedForTotalBytes: number;
  /** Events replaced by a finding because they were too large or too deep. */
  readonly replaced: number;
}

interface Segment {
  readonly file: string;
  bytes: number;
  lines: number;
  /** Journal lines written up to the end of this segment: how far the journal has moved on since is its age. */
  endLine: number;
  /** Per station, the seqs written here as runs [min, max, min, max, ...]: normally one run, more after copies. */
  readonly seqs: Map<string, number[]>;
}

/** How long a station's wire event may wait to be written to the journal (a crash loses at most this much). */
export const STATION_EVENT_WRITE_MS = 20;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_SEGMENT_LINES = 200_000;
export const DEFAULT_STATION_BYTES = 2 * 1024 * 1024;
export const DEFAULT_TOTAL_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;

const SEGMENT_NAME = /^journal-(\d+)\.jsonl$/;

export class EventHistory {
  readonly #dir: string;
  readonly #cap: number;
  readonly #logger: Logger;
  readonly #segmentBytes: number;
  readonly #segmentLines: number;
  readonly #stations = new Map<string, Ring>();
  readonly #stationBytes: number;
  readonly #totalBytes: number;
  readonly #maxEventBytes: number;
  #usedBytes = 0;
  #droppedForStationBytes = 0;
  #droppedForTotalBytes = 0;
  #replaced = 0;
  /** Closed segments oldest first, then the one being written (if open). */
  readonly #segments: Segment[] = [];
  #current: Segment | undefined;
  #fd: number | undefined;
  #nextSegment: number | undefined;
  /** Lines written to the journal so far, counting the restored segments. */
  #lines = 0;
  #pending: string[] = [];
  #pendingEvents: GatewayEvent[] = [];
  /** A write is scheduled: at the end of this turn ('turn') or after STATION_EVENT_WRITE_MS ('timer'). */
  #scheduled: 'turn' | 'timer' | false = false;
  #timer: NodeJS.Timeout | undefined;
  /** Bound once: a closure per turn is garbage on every event. */
  readonly #onTurn = (): void => this.flush();
  #writeErrors = 0;
  readonly #onExit = (): void => this.flush();

  constructor(opts: EventHistoryOptions) {
    this.#dir = path.join(opts.dataDir, 'events');
    this.#cap = Math.max(1, opts.perStation);
    this.#logger = opts.logger;
    this.#segmentBytes = Math.max(1, opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    this.#segmentLines = Math.max(1, opts.segmentLines ?? DEFAULT_SEGMENT_LINES);
    this.#stationBytes = Math.max(1, opts.stationBytes ?? DEFAULT_STATION_BYTES);
    this.#totalBytes = Math.max(1, opts.totalBytes ?? DEFAULT_TOTAL_BYTES);
    this.#maxEventBytes = Math.max(1, opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES);
  }

  budget(): HistoryBudget {
    let largest = 0;
    for (const ring of this.#stations.values()) largest = Math.max(largest, ring.bytes);
    return {
      usedBytes: this.#usedBytes,
      stationBytesLimit: this.#stationBytes,
      totalBytesLimit: this.#totalBytes,
      maxEventBytes: this.#maxEventBytes,
      largestStationBytes: largest,
      droppedForStationBytes: this.#droppedForStationBytes,
      droppedForTotalBytes: this.#droppedForTotalBytes,
      replaced: this.#replaced,
    };
  }

  /** The event as it may be kept, with its JSON line: replaced by a finding when too deep, unserialisable or too large. */
  #keepable(event: GatewayEvent, line?: string, slack = 0): Keepable {
    const kept = keepable(event, this.#maxEventBytes + slack, line);
    if (kept.replaced) this.#replaced++;
    return kept;
  }

  get writeErrors(): number {
    return this.#writeErrors;
  }

  /**
   * Reads the journal back (a torn last line, from a crash mid-write, is skipped) and moves the previous layout's
   * per-station files into it. Writing always resumes in a new segment, so nothing is appended to a torn line.
   */
  restore(): void {
    mkdirSync(this.#dir, { recursive: true });
    const names = readdirSync(this.#dir);
    const numbered = names.flatMap((name) => {
      const n = SEGMENT_NAME.exec(name)?.[1];
      return n === undefined ? [] : [{ name, n: Number(n) }];
    }).sort((a, b) => a.n - b.n);
    const found = new Map<string, Kept[]>();
    const keep = (read: GatewayEvent, line: string): GatewayEvent => {
      const { event: e, line: text } = this.#keepable(read, line);
      let events = found.get(e.chargeBoxId);
      if (!events) found.set(e.chargeBoxId, (events = []));
      events.push({ e, cost: eventCost(text.length) });
      // Trimming on the way bounds memory: what is dropped has `perStation` newer seqs already.
      if (events.length >= 4 * this.#cap) found.set(e.chargeBoxId, retained(events, this.#cap));
      return e;
    };
    for (const { name } of numbered) {
      const segment: Segment = { file: path.join(this.#dir, name), bytes: 0, lines: 0, endLine: 0, seqs: new Map() };
      segment.bytes = this.#read(segment.file, (e, line) => {
        keep(e, line);
        addSeq(segment.seqs, e.chargeBoxId, e.seq);
        segment.lines++;
      });
      this.#lines += segment.lines;
      segment.endLine = this.#lines;
      this.#segments.push(segment);
    }
    this.#nextSegment = (numbered.at(-1)?.n ?? 0) + 1;

    // The previous layout: one <encoded id>.jsonl per station (and .tmp leftovers of its rewrites).
    const legacy = names.filter((name) => name.endsWith('.jsonl') && !SEGMENT_NAME.test(name));
    const fromLegacy = new Set<GatewayEvent>();
    for (const name of legacy) {
      this.#read(path.join(this.#dir, name), (e, line) => void fromLegacy.add(keep(e, line)));
    }
    for (const [id, events] of found) {
      const ring = new Ring();
      for (const { e, cost } of retained(events, this.#cap)) ring.push(e, cost);
      this.#stations.set(id, ring);
      this.#usedBytes += ring.bytes;
      this.#holdStationBudget(ring);
    }
    this.#holdTotalBudget();
    const leftovers = names.filter((name) => name.endsWith('.jsonl.tmp'));
    if (legacy.length + leftovers.length > 0) this.#migrate(legacy, leftovers, fromLegacy);

    this.#maintain();
    process.on('exit', this.#onExit);
  }

  /** The event as it would be kept, with its JSON line (cluster mode serialises once, on the node that produced it). */
  prepare(event: GatewayEvent): Keepable {
    return this.#keepable(event);
  }

  /**
   * Records an event; returns it as kept (a finding in its place when it was too large or too deep). `line`, when
   * given, is the event's JSON text already made (cluster mode: as read from the shared stream).
   */
  append(input: GatewayEvent, made?: string): GatewayEvent {
    // A line made elsewhere was checked with seq 0: its real seq may be a few digits longer.
    const { event, line } = this.#keepable(input, made, made === undefined ? 0 : 20);
    let ring = this.#stations.get(event.chargeBoxId);
    if (!ring) this.#stations.set(event.chargeBoxId, (ring = new Ring()));
    const cost = eventCost(line.length);
    ring.push(event, cost);
    this.#usedBytes += cost;
    // Trim in chunks so the ring costs O(1) amortised per append.
    if (ring.length > this.#cap + Math.ceil(this.#cap / 4)) this.#usedBytes -= ring.dropOldest(ring.length - this.#cap);
    this.#holdStationBudget(ring);
    if (this.#usedBytes > this.#totalBytes) this.#holdTotalBudget();
    this.#pending.push(`${line}\n`);
    this.#pendingEvents.push(event);
    if (event.source === 'station') {
      // Wire events come with every station frame: one write system call per turn was the history's whole cost
      // in the relay bench. They are written within STATION_EVENT_WRITE_MS, as the message log writes the frames
      // they come from (WRITE_DELAY_MS there); a clean stop writes them at once.
      if (this.#scheduled === false) {
        this.#scheduled = 'timer';
        this.#timer = setTimeout(this.#onTurn, STATION_EVENT_WRITE_MS);
      }
    } else if (this.#scheduled !== 'turn') {
      // Events from SteVe's database and the gateway's own are written at the end of this turn, before the binlog
      // reader's next checkpoint can be, and take any station events waiting with them.
      this.#scheduled = 'turn';
      setImmediate(this.#onTurn);
    }
    return event;
  }

  #holdStationBudget(ring: Ring): void {
    const n = ring.countOver(this.#stationBytes);
    if (n === 0) return;
    this.#usedBytes -= ring.dropOldest(n);
    this.#droppedForStationBytes += n;
  }

  /** Frees down to 15/16 of the total budget from the largest stations, so the scan runs once per 1/16 of it. */
  #holdTotalBudget(): void {
    const target = this.#totalBytes - Math.floor(this.#totalBytes / 16);
    while (this.#usedBytes > target) {
      let largest: Ring | undefined;
      for (const ring of this.#stations.values()) if (!largest || ring.bytes > largest.bytes) largest = ring;
      if (!largest || largest.length <= 1) return; // every station is down to its newest event
      const n = largest.countOver(largest.bytes - (this.#usedBytes - target));
      this.#usedBytes -= largest.dropOldest(n);
      this.#droppedForTotalBytes += n;
      if (n === 0) return;
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

  /** Writes what is queued now, in one write. Synchronous so it can run at process exit. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    const events = this.#pendingEvents;
    this.#pending = [];
    this.#pendingEvents = [];
    const segment = this.#write(lines, events);
    if (segment && (segment.bytes >= this.#segmentBytes || segment.lines >= this.#segmentLines)) {
      this.#closeCurrent();
      this.#maintain();
    }
  }

  close(): void {
    this.flush();
    process.off('exit', this.#onExit);
    this.#closeCurrent();
  }

  /** Appends lines to the current segment (opening one if none is); on failure the segment is cut back to whole lines. */
  #write(lines: readonly string[], events: readonly GatewayEvent[]): Segment | undefined {
    let segment: Segment | undefined;
    try {
      segment = this.#current ?? this.#openSegment();
      const fd = this.#fd as number;
      const bytes = Buffer.from(lines.join(''));
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      segment.bytes += bytes.length;
      segment.lines += lines.length;
      this.#lines += lines.length;
      segment.endLine = this.#lines;
      for (const e of events) addSeq(segment.seqs, e.chargeBoxId, e.seq);
      return segment;
    } catch (err) {
      this.#writeErrors++;
      this.#logger.error({ err, events: lines.length }, 'event history write failed');
      if (segment && this.#fd !== undefined) {
        try {
          ftruncateSync(this.#fd, segment.bytes);
        } catch {
          // Cannot cut the partial line off: later lines go to a fresh segment rather than glued onto it.
          this.#closeCurrent();
        }
      }
      return undefined;
    }
  }

  #openSegment(): Segment {
    if (this.#nextSegment === undefined) {
      // Written to without restore(): number after whatever is there.
      mkdirSync(this.#dir, { recursive: true });
      const numbers = readdirSync(this.#dir).map((name) => Number(SEGMENT_NAME.exec(name)?.[1] ?? 0));
      this.#nextSegment = Math.max(0, ...numbers) + 1;
    }
    const file = path.join(this.#dir, `journal-${this.#nextSegment}.jsonl`);
    this.#fd = openSync(file, 'a');
    this.#nextSegment++;
    const segment: Segment = { file, bytes: 0, lines: 0, endLine: this.#lines, seqs: new Map() };
    this.#segments.push(segment);
    this.#current = segment;
    return segment;
  }

  #closeCurrent(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#current = undefined;
  }

  /**
   * On each roll: deletes the closed segments none of whose events the rings hold, and compacts at most one
   * (so the loop is never held for long) that is old and held by few events. Old: the journal has since moved on
   * by twice what all rings hold, so whoever still has events there sends at less than half the average rate and
   * may keep the segment for a long time.
   */
  #maintain(): void {
    let retainedLines = 0;
    for (const id of this.#stations.keys()) retainedLines += this.#ring(id).length;
    let compacted = false;
    for (const segment of [...this.#segments]) {
      if (segment === this.#current) continue;
      const live = this.#live(segment);
      if (live === 0) this.#delete(segment);
      else if (!compacted && this.#lines - segment.endLine >= 2 * retainedLines && live * 4 <= segment.lines) {
        compacted = true;
        this.#compact(segment);
      }
    }
  }

  /** How many of the segment's events the rings still hold. */
  #live(segment: Segment): number {
    let live = 0;
    for (const [id, runs] of segment.seqs) {
      const ring = this.#ring(id);
      for (let i = 0; i + 1 < runs.length; i += 2) live += firstAfter(ring, runs[i + 1]!) - firstAfter(ring, runs[i]! - 1);
    }
    return live;
  }

  /** Copies the segment's retained events into the current one, makes that durable, then deletes the segment. */
  #compact(segment: Segment): void {
    const lines: string[] = [];
    const events: GatewayEvent[] = [];
    for (const [id, runs] of segment.seqs) {
      const ring = this.#ring(id);
      for (let i = 0; i + 1 < runs.length; i += 2) {
        for (let k = firstAfter(ring, runs[i]! - 1), end = firstAfter(ring, runs[i + 1]!); k < end; k++) {
          const e = ring[k]!;
          lines.push(`${JSON.stringify(e)}\n`);
          events.push(e);
        }
      }
    }
    if (!this.#write(lines, events) || !this.#sync()) return;
    this.#delete(segment);
    this.#logger.debug({ file: segment.file, copied: lines.length }, 'event history segment compacted');
  }

  /** Writes the events read from per-station files into the journal, then deletes those files. */
  #migrate(files: readonly string[], leftovers: readonly string[], fromLegacy: ReadonlySet<GatewayEvent>): void {
    const lines: string[] = [];
    const events: GatewayEvent[] = [];
    for (const ring of this.#stations.values()) {
      for (const e of ring.events) {
        if (!fromLegacy.has(e)) continue; // already in the journal (a migration interrupted before the deletes)
        lines.push(`${JSON.stringify(e)}\n`);
        events.push(e);
      }
    }
    if (lines.length > 0 && (!this.#write(lines, events) || !this.#sync())) return; // keep the files for a retry
    for (const name of [...files, ...leftovers]) this.#unlink(path.join(this.#dir, name));
    this.#logger.info({ files: files.length, events: lines.length }, 'event history moved from per-station files into the journal');
  }

  /** Before a copy's source is deleted the copy must be on disk, or a power cut could lose both. */
  #sync(): boolean {
    try {
      if (this.#fd !== undefined) fdatasyncSync(this.#fd);
      return true;
    } catch (err) {
      this.#logger.error({ err }, 'event history sync failed');
      return false;
    }
  }

  #delete(segment: Segment): void {
    // Forgotten even if the unlink fails: retrying each roll would copy the same events again; restore() sees it.
    this.#segments.splice(this.#segments.indexOf(segment), 1);
    this.#unlink(segment.file);
  }

  #unlink(file: string): void {
    try {
      unlinkSync(file);
    } catch (err) {
      this.#logger.warn({ err, file }, 'could not delete an event history file');
    }
  }

  /** Calls `each` for every readable event of a JSON Lines file (with its line); returns its size in bytes. */
  #read(file: string, each: (e: GatewayEvent, line: string) => void): number {
    const text = readFileSync(file, 'utf8');
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let e: Partial<GatewayEvent> | undefined;
      try {
        e = JSON.parse(line) as Partial<GatewayEvent>;
      } catch {
        e = undefined;
      }
      if (typeof e?.chargeBoxId === 'string' && typeof e.seq === 'number') each(e as GatewayEvent, line);
      else this.#logger.warn({ file }, 'skipping an unreadable history line');
    }
    return Buffer.byteLength(text);
  }

  #ring(chargeBoxId: string): GatewayEvent[] {
    const ring = this.#stations.get(chargeBoxId);
    if (!ring) return [];
    if (ring.length > this.#cap) this.#usedBytes -= ring.dropOldest(ring.length - this.#cap);
    return ring.events;
  }
}

/** A restored event and its cost. */
interface Kept {
  readonly e: GatewayEvent;
  readonly cost: number;
}

/** The newest `cap` events in seq order, one per seq (a copy and its original are the same event). */
function retained(events: Kept[], cap: number): Kept[] {
  events.sort((a, b) => a.e.seq - b.e.seq);
  const out: Kept[] = [];
  for (const k of events) if (out[out.length - 1]?.e.seq !== k.e.seq) out.push(k);
  return out.slice(-cap);
}

function addSeq(seqs: Map<string, number[]>, chargeBoxId: string, seq: number): void {
  const runs = seqs.get(chargeBoxId);
  if (!runs) {
    seqs.set(chargeBoxId, [seq, seq]);
    return;
  }
  const last = runs.length - 1;
  if (seq === runs[last]! + 1) runs[last] = seq;
  else if (seq < runs[last - 1]! || seq > runs[last]!) runs.push(seq, seq);
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
