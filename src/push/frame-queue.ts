// A socket's bounded waiting line for the live frame stream, used while the socket has no room. Bounded in
// count and in estimated bytes; frames are lossy by design: when the line is full the newest frame is refused
// and the caller counts it (the client is told with `frames:lost`). Events never wait here: they stay in the
// event history (paced-delivery.ts).
import type { LogEntry } from '../events/observations.js';

/** What a queued frame costs, estimated like the message log's queue: its raw length ×4 (raw and payload) + fields. */
export function frameCost(entry: LogEntry): number {
  return entry.raw.length * 4 + 512;
}

export class FrameQueue {
  #items: LogEntry[] = [];
  #head = 0;
  #bytes = 0;

  constructor(
    readonly limit: number,
    readonly byteLimit: number,
  ) {}

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** false: full, the frame was not queued. */
  push(entry: LogEntry): boolean {
    const cost = frameCost(entry);
    if (this.size >= this.limit || this.#bytes + cost > this.byteLimit) return false;
    this.#items.push(entry);
    this.#bytes += cost;
    return true;
  }

  shift(): LogEntry | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const entry = this.#items[this.#head++]!;
    this.#bytes -= frameCost(entry);
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
    this.#bytes = 0;
  }
}
