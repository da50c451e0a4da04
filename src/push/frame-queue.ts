// A socket's bounded waiting line for the live frame stream, used while the socket has no room. Frames are
// lossy by design: when the line is full the newest frame is refused and the caller counts it (the client is
// told with `frames:lost`). Events never wait here: they stay in the event history (paced-delivery.ts).
import type { LogEntry } from '../events/observations.js';

export class FrameQueue {
  #items: LogEntry[] = [];
  #head = 0;

  constructor(readonly limit: number) {}

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** false: full, the frame was not queued. */
  push(entry: LogEntry): boolean {
    if (this.size >= this.limit) return false;
    this.#items.push(entry);
    return true;
  }

  shift(): LogEntry | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const entry = this.#items[this.#head++];
    // Compact once the consumed part dominates, so shifting stays O(1) amortised.
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return entry;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
