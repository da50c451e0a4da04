// Hands copies of frames to observers after the relay has forwarded them. The relay only appends to an array;
// the bus sees the batch on the next turn of the event loop, so logging and statistics never delay a frame.
import type { Bus } from '../events/bus.js';
import type { FrameObservation, LinkStateChange } from '../events/observations.js';

type Observed = { readonly channel: 'frame'; readonly value: FrameObservation } | { readonly channel: 'link'; readonly value: LinkStateChange };

export class FrameTap {
  #pending: Observed[] = [];
  #scheduled = false;
  #observerErrors = 0;

  constructor(
    private readonly bus: Bus,
    private readonly onObserverError: (err: unknown) => void,
    /** Runs on each frame observation before the bus sees it (redaction of secrets, authorization-key.ts). */
    private readonly sanitize?: (value: FrameObservation) => FrameObservation,
  ) {}

  frame(value: FrameObservation): void {
    this.#pending.push({ channel: 'frame', value });
    this.#schedule();
  }

  link(value: LinkStateChange): void {
    this.#pending.push({ channel: 'link', value });
    this.#schedule();
  }

  get observerErrors(): number {
    return this.#observerErrors;
  }

  /** Delivers everything pending now, in the order it happened (also used at shutdown). */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    for (const item of batch) {
      try {
        // A failing sanitizer drops the frame from observation: nothing unredacted reaches the bus.
        if (item.channel === 'frame') this.bus.emit('frame', this.sanitize ? this.sanitize(item.value) : item.value);
        else this.bus.emit('link', item.value);
      } catch (err) {
        // An observer's bug must not reach the relay; it is counted and logged.
        this.#observerErrors++;
        this.onObserverError(err);
      }
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }
}

/** Wall-clock microseconds since the epoch, monotonic within the process. */
export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
