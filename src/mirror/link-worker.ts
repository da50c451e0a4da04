// The relay side of the mirror worker (worker-thread.ts): a handle per mirror link, the frames of one event-loop
// turn sent as one batch, the links' numbers as the worker last reported them, and the worker restarted (links
// opened again, the restart counted) when it crashes or stops answering, while the relay goes on relaying. Every
// frame handed over is accounted for: a worker that fails takes with it what it held queued and the batches posted
// to it that it had not reported taken, and both count as dropped on the links they were for.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { MirrorLimits } from './config.js';
import type { MirrorLinkState, MirrorLinkStats } from './link.js';
import {
  LINK_STATES, ROUTE_FROM_STATION, ROUTE_FROM_UPSTREAM, ROUTE_TO_LINK, STAT_STRIDE,
  type FromWorker, type LinkSetup, type ToWorker, type WorkerSetup,
} from './worker-protocol.js';

/** The worker-side counters of a link. */
export interface LinkNumbers {
  sent: number;
  dropped: number;
  reconnects: number;
  answersDiscarded: number;
}

/** Bytes handed to the worker and not yet taken by it beyond which batches are dropped (a stalled worker). */
const BACKLOG_BYTES = 64 * 1024 * 1024;
/** A restart within this long of the previous one waits (doubling), so a worker that fails at once cannot spin. */
const CALM_MS = 60_000;

const zero = (): LinkNumbers => ({ sent: 0, dropped: 0, reconnects: 0, answersDiscarded: 0 });

/** A mirror link as the relay's thread sees it: its numbers as the worker last reported them. */
export class LinkHandle {
  state: MirrorLinkState = 'connecting';
  lagMs = 0;
  queued = 0;
  queuedBytes = 0;
  lastError: string | null = null;
  /** From the current worker. */
  current = zero();
  /** From workers that are gone, and frames dropped on this side. */
  readonly before = zero();

  constructor(
    readonly id: number,
    /** The mirror's id. */
    readonly mirror: string,
    readonly station: number,
    readonly chargeBoxId: string,
    readonly setup: LinkSetup,
  ) {}

  get mirrorChargeBoxId(): string {
    return this.setup.mirrorChargeBoxId;
  }

  totals(): LinkNumbers {
    const c = this.current;
    const b = this.before;
    return { sent: b.sent + c.sent, dropped: b.dropped + c.dropped, reconnects: b.reconnects + c.reconnects, answersDiscarded: b.answersDiscarded + c.answersDiscarded };
  }

  stats(): MirrorLinkStats & { answersDiscarded: number } {
    const t = this.totals();
    return {
      chargeBoxId: this.chargeBoxId, mirrorChargeBoxId: this.mirrorChargeBoxId, state: this.state, lagMs: this.lagMs,
      queued: this.queued, queuedBytes: this.queuedBytes, sent: t.sent, dropped: t.dropped, reconnects: t.reconnects,
      lastError: this.lastError, answersDiscarded: t.answersDiscarded,
    };
  }
}

export interface MirrorWorkerOptions {
  readonly limits: MirrorLimits;
  readonly logger: Logger;
  /** A frame a mirror sent that the relay side handles (calls; answers of mirrors with logAnswers). */
  readonly onFrame: (link: LinkHandle, text: string) => void;
  /** A closed link's numbers grew after it was closed (its last report): add `more` to its mirror's totals. */
  readonly onLate: (link: LinkHandle, more: LinkNumbers) => void;
}

export interface MirrorWorkerHealth {
  /** idle: no mirror link was opened yet, so no thread was started. */
  readonly state: 'idle' | 'running' | 'restarting' | 'stopped';
  readonly restarts: number;
  readonly lastFailure: string | null;
  /** Frames not handed to the worker because it was not taking them (counted in their links' drops too). */
  readonly backlogDrops: number;
  /**
   * Frames of batches posted to a worker that then crashed or stalled before it reported them taken (counted in
   * their links' drops too).
   */
  readonly unacknowledgedDrops: number;
  /** Batches the worker refused because their texts did not split into their frames (a defect: should stay 0). */
  readonly refusedBatches: number;
}

const encoder = new TextEncoder();

/** A batch posted to the worker and not yet reported taken. */
interface Posted {
  /** (target, route) per frame, as posted: where its frames count as dropped if the worker fails. */
  readonly routes: Int32Array;
  /** Links numbered from here on were opened after the batch: it was never theirs. */
  readonly linksBelow: number;
}

export class MirrorWorker {
  readonly #o: MirrorWorkerOptions;
  readonly #links = new Map<number, LinkHandle>();
  /** Closed links whose last numbers the worker has not reported yet. */
  readonly #closing = new Map<number, LinkHandle>();
  #worker: Worker | undefined;
  #state: MirrorWorkerHealth['state'] = 'idle';
  #restarts = 0;
  #lastFailure: string | null = null;
  #startedAt = 0;
  #retryMs = 0;
  #heardAt = 0;
  #watch: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #nextId = 1;
  // The current turn's batch.
  #texts: string[] = [];
  #routes: number[] = [];
  #chars = 0;
  #at = 0;
  #postedBytes = 0;
  #takenBytes = 0;
  #backlogDrops = 0;
  #unacknowledgedDrops = 0;
  /** Batches posted to the current worker, oldest first, from the first one it has not reported taken. */
  #unacked: Posted[] = [];
  /** Batches the current worker reported taken. */
  #acked = 0;
  #refused = 0;
  #refusedBefore = 0;
  #refreshSeq = 0;
  readonly #refreshes: { seq: number; resolve: () => void }[] = [];

  /** The thread starts with the first link: a gateway without mirrors has none. */
  constructor(options: MirrorWorkerOptions) {
    this.#o = options;
  }

  /** A number for a station, the target of its frames. */
  station(): number {
    return this.#nextId++;
  }

  open(mirror: string, station: number, chargeBoxId: string, setup: LinkSetup): LinkHandle {
    const link = new LinkHandle(this.#nextId++, mirror, station, chargeBoxId, setup);
    this.#links.set(link.id, link);
    if (this.#state === 'idle') this.#start();
    else this.#control({ op: 'open', link: link.id, station, chargeBoxId, setup });
    return link;
  }

  close(link: LinkHandle): void {
    if (!this.#links.delete(link.id)) return;
    link.state = 'closed';
    this.#closing.set(link.id, link);
    this.#control({ op: 'close', link: link.id });
  }

  fromStation(station: number, text: string): void {
    this.#push(station, ROUTE_FROM_STATION, text);
  }

  fromUpstream(station: number, text: string): void {
    this.#push(station, ROUTE_FROM_UPSTREAM, text);
  }

  toLink(link: LinkHandle, text: string): void {
    this.#push(link.id, ROUTE_TO_LINK, text);
  }

  health(): MirrorWorkerHealth {
    return {
      state: this.#state, restarts: this.#restarts, lastFailure: this.#lastFailure, backlogDrops: this.#backlogDrops,
      unacknowledgedDrops: this.#unacknowledgedDrops, refusedBatches: this.#refusedBefore + this.#refused,
    };
  }

  /** Resolves once the worker reported the numbers as of now (or after `timeoutMs` when it does not). */
  refresh(timeoutMs = 1000): Promise<void> {
    if (!this.#worker) return Promise.resolve();
    const seq = ++this.#refreshSeq;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#refreshes.push({ seq, resolve: () => { clearTimeout(timer); resolve(); } });
      this.#control({ op: 'stats', seq });
    });
  }

  /** Tests only: make the worker crash or stall. */
  fault(kind: 'crash' | 'stall'): void {
    this.#control({ op: 'fault', kind });
  }

  stop(): void {
    this.#state = 'stopped';
    clearInterval(this.#watch);
    clearTimeout(this.#restartTimer);
    const w = this.#worker;
    this.#worker = undefined;
    void w?.terminate();
    for (const r of this.#refreshes.splice(0)) r.resolve();
  }

  /** O(1): the frame joins this turn's batch, sent on the next turn. */
  #push(target: number, route: number, text: string): void {
    if (this.#texts.length === 0) {
      this.#at = Date.now();
      setImmediate(this.#flush);
    }
    this.#texts.push(text);
    this.#routes.push(target, route);
    this.#chars += text.length;
  }

  readonly #flush = (): void => {
    if (this.#texts.length === 0) return;
    const texts = this.#texts;
    const routes = this.#routes;
    const chars = this.#chars;
    this.#texts = [];
    this.#routes = [];
    this.#chars = 0;
    if (!this.#worker || this.#postedBytes - this.#takenBytes + chars > BACKLOG_BYTES) {
      this.#backlogDrops += this.#drop(routes, this.#nextId, undefined);
      return;
    }
    const bytes = encoder.encode(texts.join('\0'));
    const table = Int32Array.from(routes);
    this.#postedBytes += bytes.byteLength;
    // The routes are kept until the worker reports the batch taken (one small table per turn, none per frame), so
    // the worker copies them rather than taking them over.
    this.#unacked.push({ routes: table, linksBelow: this.#nextId });
    this.#worker.postMessage({ op: 'frames', texts: bytes, routes: table, at: this.#at } satisfies ToWorker, [bytes.buffer]);
  };

  /**
   * A batch that the worker will never take: its frames count as dropped on the links they were for (open links
   * numbered below `linksBelow`, and in `closing` the closed links whose last numbers will not come). Returns the
   * number of frames.
   */
  #drop(routes: ArrayLike<number>, linksBelow: number, closing: Map<number, number> | undefined): number {
    const dropOn = (l: LinkHandle): void => {
      if (l.id >= linksBelow) return;
      if (l.state !== 'closed') l.before.dropped++;
      else if (closing) closing.set(l.id, (closing.get(l.id) ?? 0) + 1);
    };
    for (let i = 0; i < routes.length; i += 2) {
      const target = routes[i]!;
      const route = routes[i + 1]!;
      if (route === ROUTE_TO_LINK) {
        const l = this.#links.get(target) ?? (closing ? this.#closing.get(target) : undefined);
        if (l) dropOn(l);
        continue;
      }
      for (const l of this.#links.values()) if (l.station === target && (route === ROUTE_FROM_STATION || l.setup.answers)) dropOn(l);
      if (closing) for (const l of this.#closing.values()) if (l.station === target && (route === ROUTE_FROM_STATION || l.setup.answers)) dropOn(l);
    }
    return routes.length / 2;
  }

  /** Controls keep their order with frames: this turn's batch goes first. */
  #control(m: ToWorker): void {
    this.#flush();
    this.#worker?.postMessage(m);
  }

  #start(): void {
    this.#spawn();
    const { stallMs } = this.#o.limits;
    this.#watch = setInterval(() => {
      if (this.#worker && Date.now() - this.#heardAt > stallMs) this.#fail(`the mirror worker did not report for ${stallMs} ms`);
    }, Math.max(50, stallMs / 4));
    this.#watch.unref();
  }

  /** A new thread, with every open link opened in it. */
  #spawn(): void {
    const setup: WorkerSetup = { limits: this.#o.limits };
    const worker = workerFor(setup);
    worker.unref();
    this.#worker = worker;
    this.#state = 'running';
    this.#startedAt = Date.now();
    // Loading the worker's code (under tsx, compiling it) is not a stall.
    this.#heardAt = Date.now() + 30_000;
    this.#postedBytes = 0;
    this.#takenBytes = 0;
    this.#unacked = [];
    this.#acked = 0;
    worker.on('message', (m: FromWorker) => this.#received(worker, m));
    worker.on('error', (err) => {
      if (this.#worker === worker) this.#fail(`the mirror worker failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#fail(`the mirror worker exited (code ${code})`);
    });
    for (const l of this.#links.values()) worker.postMessage({ op: 'open', link: l.id, station: l.station, chargeBoxId: l.chargeBoxId, setup: l.setup } satisfies ToWorker);
  }

  #fail(why: string): void {
    const worker = this.#worker;
    if (!worker || this.#state === 'stopped') return;
    this.#worker = undefined;
    this.#state = 'restarting';
    this.#restarts++;
    this.#lastFailure = why;
    void worker.terminate();
    // What the worker counted stays counted. What it held queued as of its last report, and the batches posted to
    // it that it had not reported taken by then, are lost with it: dropped, on the links they were for. (A frame it
    // sent after its last report is counted as dropped too: nothing confirmed it.)
    const closing = new Map<number, number>();
    for (const b of this.#unacked) this.#unacknowledgedDrops += this.#drop(b.routes, b.linksBelow, closing);
    this.#unacked = [];
    for (const l of this.#closing.values()) {
      const more = { ...zero(), dropped: l.queued + (closing.get(l.id) ?? 0) };
      l.queued = 0;
      l.queuedBytes = 0;
      if (more.dropped) this.#o.onLate(l, more);
    }
    for (const l of this.#links.values()) {
      const b = l.before;
      const c = l.current;
      b.sent += c.sent;
      b.dropped += c.dropped + l.queued;
      b.reconnects += c.reconnects;
      b.answersDiscarded += c.answersDiscarded;
      l.current = zero();
      l.state = 'connecting';
      l.lagMs = 0;
      l.queued = 0;
      l.queuedBytes = 0;
    }
    this.#closing.clear();
    this.#refusedBefore += this.#refused;
    this.#refused = 0;
    for (const r of this.#refreshes.splice(0)) r.resolve();
    this.#retryMs = Date.now() - this.#startedAt > CALM_MS ? 0 : Math.min(30_000, Math.max(100, this.#retryMs * 2));
    this.#o.logger.error({ restarts: this.#restarts, retryMs: this.#retryMs }, `${why}: restarting it; the relay is not affected, mirrors reconnect`);
    this.#restartTimer = setTimeout(() => this.#spawn(), this.#retryMs);
    this.#restartTimer.unref();
  }

  #received(worker: Worker, m: FromWorker): void {
    if (this.#worker !== worker) return;
    this.#heardAt = Date.now();
    switch (m.op) {
      case 'frame': {
        const link = this.#links.get(m.link);
        if (link) this.#o.onFrame(link, m.text);
        return;
      }
      case 'closed': {
        const link = this.#closing.get(m.row[0]!);
        if (!link) return;
        this.#closing.delete(link.id);
        const was = link.current;
        this.#apply(link, m.row, 0);
        link.state = 'closed';
        const now = link.current;
        const more = { sent: now.sent - was.sent, dropped: now.dropped - was.dropped, reconnects: now.reconnects - was.reconnects, answersDiscarded: now.answersDiscarded - was.answersDiscarded };
        if (more.sent || more.dropped || more.reconnects || more.answersDiscarded) this.#o.onLate(link, more);
        return;
      }
      case 'stats': {
        this.#takenBytes = m.bytesTaken;
        if (m.batchesTaken > this.#acked) {
          this.#unacked.splice(0, m.batchesTaken - this.#acked);
          this.#acked = m.batchesTaken;
        }
        if (m.refusedBatches > this.#refused) this.#o.logger.error({ refusedBatches: m.refusedBatches }, 'mirror worker: a batch of frames did not split into its frames and was dropped (a frame held a NUL)');
        this.#refused = m.refusedBatches;
        for (let i = 0; i < m.rows.length; i += STAT_STRIDE) {
          const link = this.#links.get(m.rows[i]!);
          if (link) this.#apply(link, m.rows, i);
        }
        for (const [id, err] of m.errors) {
          const link = this.#links.get(id);
          if (link) link.lastError = err;
        }
        while (this.#refreshes.length && this.#refreshes[0]!.seq <= m.seq) this.#refreshes.shift()!.resolve();
      }
    }
  }

  #apply(link: LinkHandle, rows: Float64Array, i: number): void {
    link.state = LINK_STATES[rows[i + 1]!] ?? 'connecting';
    link.lagMs = rows[i + 2]!;
    link.queued = rows[i + 3]!;
    link.queuedBytes = rows[i + 4]!;
    link.current = { sent: rows[i + 5]!, dropped: rows[i + 6]!, reconnects: rows[i + 7]!, answersDiscarded: rows[i + 8]! };
  }
}

/**
 * The worker runs the compiled worker-thread.js beside this file; from sources (tsx, vitest) it registers tsx's
 * loader first, as workers do not inherit it.
 */
function workerFor(setup: WorkerSetup): Worker {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new Worker(new URL('./worker-thread.js', here), { workerData: setup });
  const entry = new URL('./worker-thread.ts', here).href;
  const code = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: setup });
}
