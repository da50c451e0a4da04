// The mirror worker: a thread of its own that holds every mirror link (link.ts), so that their sockets, queues,
// reconnects and garbage never run on the relay's event loop or heap. It takes the relay side's batches, fans each
// frame out to the links of its station, counts the mirrors' answers without decoding them, hands the relay side
// only what it must act on (a mirror's calls; answers to log), and reports the links' numbers periodically.
import { parentPort, workerData } from 'node:worker_threads';
import { MirrorLink } from './link.js';
import {
  LINK_STATES, ROUTE_FROM_STATION, ROUTE_FROM_UPSTREAM, ROUTE_TO_LINK, STAT_STRIDE,
  type FromWorker, type LinkSetup, type ToWorker, type WorkerSetup,
} from './worker-protocol.js';

interface Link {
  readonly id: number;
  readonly setup: LinkSetup;
  readonly link: MirrorLink;
  answersDiscarded: number;
  /** The numbers last reported, to report only what changed. */
  readonly last: Float64Array;
  lastError: string | null;
}

const port = parentPort;
if (!port) throw new Error('worker-thread.ts runs as the mirror worker only');
const { limits } = workerData as WorkerSetup;
/** State, drops, reconnects and errors are reported within this long; the other numbers every statsIntervalMs. */
const NOTABLE_MS = 50;
const links = new Map<number, Link>();
/** Station number → its links, replaced (not mutated) when links come and go. */
const stations = new Map<number, readonly Link[]>();
const stationOf = new Map<number, number>();
let bytesTaken = 0;
/** Batches taken so far, refused ones included: the relay side's acknowledgement, reported with the links' numbers. */
let batchesTaken = 0;
/** Batches refused because their texts did not split into their frames. */
let refusedBatches = 0;
let seqAnswered = 0;
let lastReport = 0;
/** A link's state or error changed, or it dropped a frame, since the last report. */
let notable = false;
const noteChange = (): void => {
  notable = true;
};
const post = (m: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);

/** Writes the link's numbers into `out` at `at`; returns its last error. */
function row(l: Link, out: Float64Array, at: number, now: number): string | null {
  const s = l.link.stats(now);
  out[at] = l.id;
  out[at + 1] = LINK_STATES.indexOf(s.state);
  out[at + 2] = s.lagMs;
  out[at + 3] = s.queued;
  out[at + 4] = s.queuedBytes;
  out[at + 5] = s.sent;
  out[at + 6] = s.dropped;
  out[at + 7] = s.reconnects;
  out[at + 8] = l.answersDiscarded;
  return s.lastError;
}

/**
 * Reports the links whose numbers changed: when asked, every statsIntervalMs (the report doubles as the worker's
 * heartbeat), and within NOTABLE_MS of a notable change.
 */
function reportStats(force: boolean): void {
  const now = Date.now();
  const scratch = new Float64Array(STAT_STRIDE);
  if (!force && !notable && now - lastReport < limits.statsIntervalMs) return;
  lastReport = now;
  notable = false;
  const changed: number[] = [];
  const errors: [number, string | null][] = [];
  for (const l of links.values()) {
    const err = row(l, scratch, 0, now);
    let same = true;
    for (let i = 1; i < STAT_STRIDE && same; i++) same = scratch[i] === l.last[i];
    if (!same) {
      l.last.set(scratch);
      for (const x of scratch) changed.push(x);
    }
    if (err !== l.lastError) {
      l.lastError = err;
      errors.push([l.id, err]);
    }
  }
  const rows = Float64Array.from(changed);
  post({ op: 'stats', rows, errors, bytesTaken, batchesTaken, refusedBatches, seq: seqAnswered }, [rows.buffer]);
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Whether a frame starts like a CALLRESULT or CALLERROR (`[3` or `[4`, JSON whitespace allowed). */
export function isAnswer(data: Uint8Array): boolean {
  let i = 0;
  while (i < data.length && SPACE.has(data[i]!)) i++;
  if (data[i] !== 0x5b) return false;
  i++;
  while (i < data.length && SPACE.has(data[i]!)) i++;
  return (data[i] === 0x33 || data[i] === 0x34) && (i + 1 >= data.length || !(data[i + 1]! >= 0x30 && data[i + 1]! <= 0x39));
}

function open(m: Extract<ToWorker, { op: 'open' }>): void {
  const l: Link = {
    id: m.link,
    setup: m.setup,
    answersDiscarded: 0,
    last: new Float64Array(STAT_STRIDE).fill(-1),
    lastError: null,
    link: new MirrorLink({
      setup: m.setup,
      chargeBoxId: m.chargeBoxId,
      limits,
      onNotable: noteChange,
      onFrame: (data) => {
        // A mirror's answers, the usual traffic, are counted here unless they are to be logged.
        if (!l.setup.logAnswers && isAnswer(data)) l.answersDiscarded++;
        else post({ op: 'frame', link: l.id, text: data.toString() });
      },
    }),
  };
  links.set(l.id, l);
  stationOf.set(l.id, m.station);
  stations.set(m.station, [...(stations.get(m.station) ?? []), l]);
}

function close(id: number): void {
  const l = links.get(id);
  if (!l) return;
  l.link.close();
  links.delete(id);
  const station = stationOf.get(id)!;
  stationOf.delete(id);
  const rest = (stations.get(station) ?? []).filter((x) => x !== l);
  if (rest.length) stations.set(station, rest);
  else stations.delete(station);
  const last = new Float64Array(STAT_STRIDE);
  row(l, last, 0, Date.now());
  post({ op: 'closed', row: last }, [last.buffer]);
}

function frames(b: Extract<ToWorker, { op: 'frames' }>): void {
  const { routes, at } = b;
  const texts = Buffer.from(b.texts.buffer, b.texts.byteOffset, b.texts.byteLength);
  bytesTaken += texts.byteLength;
  batchesTaken++;
  // Where each frame ends. A NUL inside a frame (the relay mirrors only frames that parsed, so none should hold
  // one) would shift every later frame onto the wrong station: such a batch is refused whole, and counted.
  const count = routes.length / 2;
  if (count === 0) return;
  const ends = new Int32Array(count);
  let n = 0;
  for (let from = 0; n < count; n++) {
    const end = texts.indexOf(0, from);
    ends[n] = end < 0 ? texts.length : end;
    if (end < 0) break;
    from = end + 1;
  }
  if (n !== count - 1 || ends[count - 1] !== texts.length) {
    refusedBatches++;
    noteChange();
    return;
  }
  const touched = new Set<MirrorLink>();
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = ends[i]!;
    const text = texts.subarray(start, end);
    start = end + 1;
    const target = routes[2 * i]!;
    const route = routes[2 * i + 1]!;
    if (route === ROUTE_TO_LINK) {
      const l = links.get(target);
      if (l) send(l.link, text, at, touched);
      continue;
    }
    const ls = stations.get(target);
    if (!ls) continue;
    for (const l of ls) if (route === ROUTE_FROM_STATION || (route === ROUTE_FROM_UPSTREAM && l.setup.answers)) send(l.link, text, at, touched);
  }
  // Each link writes its share of the batch at once.
  for (const link of touched) link.pump();
}

function send(link: MirrorLink, text: Buffer, at: number, touched: Set<MirrorLink>): void {
  link.send(text, at);
  touched.add(link);
}

port.on('message', (m: ToWorker) => {
  switch (m.op) {
    case 'frames':
      return frames(m);
    case 'open':
      return open(m);
    case 'close':
      return close(m.link);
    case 'stats':
      seqAnswered = m.seq;
      return reportStats(true);
    case 'fault':
      if (m.kind === 'crash') throw new Error('mirror worker: crash requested (test)');
      // A stall: the thread is alive but its loop never turns again.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
});
setInterval(() => reportStats(false), Math.min(NOTABLE_MS, limits.statsIntervalMs));
reportStats(true);
