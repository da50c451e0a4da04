// One station's retained events with what each costs in memory, so the history can hold a byte budget per station
// and in total as well as a count. Events are in seq order, oldest first.
import type { GatewayEvent } from './catalogue.js';

/**
 * Estimated heap cost of a retained event from its JSON line: strings dominate and cost about their length, the
 * object's fields and hidden class cost about as much again for small events; a fixed part covers the rest.
 */
export function eventCost(jsonLength: number): number {
  return jsonLength * 2 + 256;
}

export class Ring {
  readonly events: GatewayEvent[] = [];
  readonly #costs: number[] = [];
  #bytes = 0;

  get bytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.events.length;
  }

  push(event: GatewayEvent, cost: number): void {
    this.events.push(event);
    this.#costs.push(cost);
    this.#bytes += cost;
  }

  /** Drops the `n` oldest events; returns the bytes freed. */
  dropOldest(n: number): number {
    const k = Math.min(n, this.events.length);
    if (k <= 0) return 0;
    let freed = 0;
    for (let i = 0; i < k; i++) freed += this.#costs[i]!;
    this.events.splice(0, k);
    this.#costs.splice(0, k);
    this.#bytes -= freed;
    return freed;
  }

  /** How many of the oldest events must go so that at most `maxBytes` remain (the newest event always stays). */
  countOver(maxBytes: number): number {
    let excess = this.#bytes - maxBytes;
    let n = 0;
    while (excess > 0 && n < this.events.length - 1) excess -= this.#costs[n++]!;
    return n;
  }
}
