// Large station frames decoded and parsed on a thread of their own (frame-decoder-worker.ts), so that one station's
// megabyte costs the relay's event loop a copy, not milliseconds of decoding. The relay keeps each station's order
// (relay.ts, the session's inbox) and the frame's bytes, which it forwards as they came. Whatever goes wrong with the
// thread (not started, exited, too much in flight), the frame is decoded in place as before: never lost.
import { Worker } from 'node:worker_threads';
import { truncateUtf8 } from '../events/json-safety.js';
import { CALL, CALLERROR, parseFrame, type Frame, type ParseResult } from '../ocpp/frames.js';

/**
 * Only the frame's first part wanted back, up to `bytes` (headView), and of its payload: nothing (it goes on as the
 * station's bytes), or its strings cut at COMPACT_STRING_CHARS (the embedded central system answers from it).
 */
export interface HeadRequest {
  readonly bytes: number;
  readonly payload: 'none' | 'compact';
}

export interface DecodeRequest {
  readonly id: number;
  readonly bytes: ArrayBuffer;
  readonly head?: HeadRequest;
}

export interface DecodeReply extends DecodedText {
  readonly id: number;
}

/**
 * A frame's text and parse, whole; or, when only its head was asked for, its first part and a parse without the
 * payload (a CALLERROR's description cut short, no details), `rawBytes` being the frame's size.
 */
export interface DecodedText {
  readonly text: string;
  readonly parsed: ParseResult;
  readonly rawBytes?: number;
}

export interface Decoded extends DecodedText {
  /** Whether the thread did the work (false: decoded in place). */
  readonly offThread: boolean;
}

/** Characters of a CALLERROR's description kept in a head view (the relay words its own errors from at most 400). */
const HEAD_DESCRIPTION_CHARS = 1024;

/**
 * Strings of a payload longer than this are cut to it in a compact head view. Every answer of the embedded central
 * system is the same from the cut payload: no OCPP 1.6 field is longer (the longest, a CSR, is 5,500 characters),
 * so a string over any maxLength stays over it, and no enum value, date or idTag is this long.
 */
export const COMPACT_STRING_CHARS = 16 * 1024;

/** What a frame of `size` bytes leaves when only its head is wanted (the decoder thread runs this). */
export function headView(text: string, parsed: ParseResult, head: HeadRequest, size: number): DecodedText {
  if (size <= head.bytes) return { text, parsed };
  return { text: truncateUtf8(text, head.bytes), parsed: parsed.ok ? { ok: true, frame: headFrame(parsed.frame, head.payload) } : parsed, rawBytes: size };
}

function headFrame(frame: Frame, payload: HeadRequest['payload']): Frame {
  if (frame.type === CALLERROR) return { type: CALLERROR, id: frame.id, code: frame.code, description: frame.description.slice(0, HEAD_DESCRIPTION_CHARS), details: undefined };
  const kept = payload === 'compact' ? compact(frame.payload) : undefined;
  return frame.type === CALL ? { type: CALL, id: frame.id, action: frame.action, payload: kept } : { type: frame.type, id: frame.id, payload: kept };
}

/** The value with every string over COMPACT_STRING_CHARS cut to it (a parsed frame nests at most MAX_FRAME_DEPTH). */
function compact(value: unknown): unknown {
  if (typeof value === 'string') return value.length > COMPACT_STRING_CHARS ? value.slice(0, COMPACT_STRING_CHARS) : value;
  if (Array.isArray(value)) return value.map(compact);
  if (value === null || typeof value !== 'object') return value;
  // fromEntries defines own properties: a key "__proto__" from the wire stays a key, not a prototype.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
}

/** Bytes in flight to the thread at most; past this a frame is decoded in place (the thread is behind anyway). */
export const DECODER_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;
/** The thread's heap, garbage included: a hard cap (a thread past it ends, and its frames are decoded in place). */
const THREAD_HEAP = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 128 };
/** What the decoder may hold beyond the relay's own heap: the thread's heap and the copies on their way to it. */
export const DECODER_MEMORY_BYTES = (THREAD_HEAP.maxYoungGenerationSizeMb + THREAD_HEAP.maxOldGenerationSizeMb) * 1024 * 1024 + DECODER_MAX_IN_FLIGHT_BYTES;

function inPlace(bytes: Buffer): Decoded {
  const text = bytes.toString('utf8');
  return { text, parsed: parseFrame(text), offThread: false };
}

interface Waiting {
  readonly bytes: Buffer;
  readonly done: (d: Decoded) => void;
}

export class FrameDecoder {
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  #inFlightBytes = 0;
  #closed = false;
  /** inboxPauses: times a station's inbox went over INBOX_MAX_BYTES (station-inbox.ts) and its link stopped reading;
   * inboxFlushes: times it was decoded in place instead (a link that cannot pause, or twice the budget); heads: frames
   * the thread sent back as their first part only, headsRedone: of those, decoded whole after all (relay.ts). */
  readonly counters = { offThread: 0, inPlace: 0, threadFailures: 0, inboxPauses: 0, inboxFlushes: 0, heads: 0, headsRedone: 0 };

  /** Decodes here and now (a station's inbox over its budget, or its link closing). */
  decodeInPlace(bytes: Buffer): Decoded {
    this.counters.inPlace++;
    return inPlace(bytes);
  }

  /**
   * Calls `done` with the frame's text and parse, later (from the thread) or at once (in place). `done` is called
   * exactly once. With `head`, the thread sends back only the frame's first part (headView); in place it is decoded
   * whole all the same.
   */
  decode(bytes: Buffer, done: (d: Decoded) => void, head?: HeadRequest): void {
    const worker = this.#closed || this.#inFlightBytes + bytes.length > DECODER_MAX_IN_FLIGHT_BYTES ? undefined : this.#thread();
    if (worker === undefined) return done(this.decodeInPlace(bytes));
    const id = this.#nextId++;
    this.#waiting.set(id, { bytes, done });
    this.#inFlightBytes += bytes.length;
    // A copy of exactly the frame's bytes, handed over: a Buffer may be a view into a larger pool.
    const copy = new ArrayBuffer(bytes.length);
    new Uint8Array(copy).set(bytes);
    const request: DecodeRequest = head === undefined ? { id, bytes: copy } : { id, bytes: copy, head };
    worker.postMessage(request, [copy]);
  }

  get stats(): { readonly inFlight: number; readonly inFlightBytes: number } & Readonly<FrameDecoder['counters']> {
    return { inFlight: this.#waiting.size, inFlightBytes: this.#inFlightBytes, ...this.counters };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll();
    await worker?.terminate();
  }

  #thread(): Worker | undefined {
    if (this.#worker) return this.#worker;
    let worker: Worker;
    try {
      worker = spawn();
    } catch {
      this.counters.threadFailures++;
      return undefined;
    }
    worker.unref();
    worker.on('message', (reply: DecodeReply) => {
      const w = this.#waiting.get(reply.id);
      if (!w) return;
      this.#waiting.delete(reply.id);
      this.#inFlightBytes -= w.bytes.length;
      this.counters.offThread++;
      if (reply.rawBytes !== undefined) this.counters.heads++;
      w.done(reply.rawBytes === undefined ? { text: reply.text, parsed: reply.parsed, offThread: true } : { text: reply.text, parsed: reply.parsed, rawBytes: reply.rawBytes, offThread: true });
    });
    const failed = (): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      if (!this.#closed) this.counters.threadFailures++;
      this.#failAll();
    };
    worker.on('error', failed);
    worker.on('exit', failed);
    this.#worker = worker;
    return worker;
  }

  /** What the thread will never answer is decoded in place, in the order it was sent. */
  #failAll(): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    this.#inFlightBytes = 0;
    for (const w of waiting) w.done(this.decodeInPlace(w.bytes));
  }
}

/** The compiled worker beside this file; from sources (tsx, vitest) tsx's loader is registered first. */
function spawn(): Worker {
  const here = import.meta.url;
  const options = { resourceLimits: THREAD_HEAP };
  if (here.endsWith('.js')) return new Worker(new URL('./frame-decoder-worker.js', here), options);
  const entry = new URL('./frame-decoder-worker.ts', here).href;
  return new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`, { ...options, eval: true });
}
