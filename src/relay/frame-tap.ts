// Hands copies of frames to observers after the relay has forwarded them. The relay only appends to an array;
// the bus sees the batch on a later turn of the event loop, in slices of at most `sliceMs`, so that frames arriving
// meanwhile are relayed between two slices instead of waiting behind a whole batch of logging and statistics.
import type { Bus } from '../events/bus.js';
import type { FrameObservation, LinkStateChange } from '../events/observations.js';

type Observed = { readonly channel: 'frame'; readonly value: FrameObservation; readonly cost: number } | { readonly channel: 'link'; readonly value: LinkStateChange; readonly cost: number };

/** How long one turn of observer work may hold the event loop (the relay's added latency at the tail). */
export const DEFAULT_OBSERVER_SLICE_MS = 0.25;
/** Observations allowed to wait for their observers, in bytes (a frame counts 2 bytes per character + 256). */
export const DEFAULT_OBSERVER_QUEUE_BYTES = 16 * 1024 * 1024;

export interface FrameTapOptions {
  readonly sliceMs?: number;
  readonly queueBytes?: number;
}

export interface FrameTapStats {
  /** Observers that threw (each counted, logged; the relay never sees it). */
  readonly errors: number;
  /** Frame observations dropped because observers fell more than `queueBytes` behind (frames were still relayed). */
  readonly dropped: number;
  readonly queuedBytes: number;
  readonly queueBytes: number;
}

const costOf = (raw: string): number => 2 * raw.length + 256;

export class FrameTap {
  #pending: Observed[] = [];
  #head = 0;
  #queuedBytes = 0;
  #scheduled = false;
  #observerErrors = 0;
  #dropped = 0;
  readonly #sliceMs: number;
  readonly #queueBytes: number;

  constructor(
    private readonly bus: Bus,
    private readonly onObserverError: (err: unknown) => void,
    /** Runs on each frame observation before the bus sees it (redaction of secrets, authorization-key.ts). */
    private readonly sanitize?: (value: FrameObservation) => FrameObservation,
    options: FrameTapOptions = {},
  ) {
    this.#sliceMs = options.sliceMs ?? DEFAULT_OBSERVER_SLICE_MS;
    this.#queueBytes = options.queueBytes ?? DEFAULT_OBSERVER_QUEUE_BYTES;
  }

  frame(value: FrameObservation): void {
    const cost = costOf(value.raw);
    if (this.#queuedBytes + cost > this.#queueBytes) {
      this.#dropped++;
      return;
    }
    this.#queuedBytes += cost;
    this.#pending.push({ channel: 'frame', value, cost });
    this.#schedule();
  }

  /** Link changes are never dropped: they are few, and the event model's state depends on every one. */
  link(value: LinkStateChange): void {
    this.#pending.push({ channel: 'link', value, cost: 0 });
    this.#schedule();
  }

  get observerErrors(): number {
    return this.#observerErrors;
  }

  stats(): FrameTapStats {
    return { errors: this.#observerErrors, dropped: this.#dropped, queuedBytes: this.#queuedBytes, queueBytes: this.#queueBytes };
  }

  /** Delivers everything pending now, in the order it happened (shutdown, tests). */
  flush(): void {
    this.#deliver(Number.POSITIVE_INFINITY);
  }

  /** Delivers in order until the slice is used up; what is left goes on the next turn, after pending I/O. */
  #deliver(deadline: number): void {
    this.#scheduled = false;
    const batch = this.#pending;
    let i = this.#head;
    // Checking the clock every 8 items keeps its cost out of the per-frame budget.
    while (i < batch.length) {
      const item = batch[i++] as Observed;
      this.#queuedBytes -= item.cost;
      try {
        // A failing sanitizer drops the frame from observation: nothing unredacted reaches the bus.
        if (item.channel === 'frame') this.bus.emit('frame', this.sanitize ? this.sanitize(item.value) : item.value);
        else this.bus.emit('link', item.value);
      } catch (err) {
        // An observer's bug must not reach the relay; it is counted and logged.
        this.#observerErrors++;
        this.onObserverError(err);
      }
      if ((i & 7) === 0 && performance.now() >= deadline) break;
    }
    if (i >= batch.length) {
      this.#pending = [];
      this.#head = 0;
      this.#queuedBytes = 0;
      return;
    }
    // Let go of delivered observations once they are half the array (the array is reused while load lasts).
    if (i > 1024 && i * 2 > batch.length) {
      this.#pending = batch.slice(i);
      this.#head = 0;
    } else {
      this.#head = i;
    }
    this.#schedule();
  }

  /** Bound once: a closure per scheduled turn showed in the relay bench's allocation profile. */
  readonly #onTurn = (): void => this.#deliver(performance.now() + this.#sliceMs);

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#onTurn);
  }
}

/** Wall-clock microseconds since the epoch, monotonic within the process. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
