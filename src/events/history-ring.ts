// One station's retained events with what each costs in memory, so the history can hold a byte budget per station
// and in total as well as a count (events in seq order, oldest first); and what an event may be to be kept at all.
import type { GatewayEvent } from './catalogue.js';
import { exceedsDepth, MAX_SAFE_DEPTH, tryStringify } from './json-safety.js';

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

/**
 * The event to keep in place of one that cannot be kept as it is: a finding with the same id, seq and station,
 * so replay by seq has no hole and clients see what happened.
 */
function replacement(e: GatewayEvent, problem: 'too-large' | 'too-deep' | 'unserialisable', bytes: number | undefined, maxBytes: number): GatewayEvent {
  const message =
    problem === 'too-large'
      ? `a ${e.type} event of ${bytes ?? '?'} bytes is larger than EVENTS_MAX_EVENT_BYTES (${maxBytes}): only this finding is kept`
      : problem === 'too-deep'
        ? `a ${e.type} event nests deeper than ${MAX_SAFE_DEPTH} levels: only this finding is kept`
        : `a ${e.type} event could not be serialised: only this finding is kept`;
  return {
    id: e.id,
    seq: e.seq,
    type: 'finding',
    chargeBoxId: e.chargeBoxId,
    ...(e.connectorId !== undefined ? { connectorId: e.connectorId } : {}),
    ...(e.transactionId !== undefined ? { transactionId: e.transactionId } : {}),
    timestamp: e.timestamp,
    receivedAt: e.receivedAt,
    source: e.source,
    data: { rule: `event.${problem}`, message },
  };
}

export interface Keepable {
  readonly event: GatewayEvent;
  /** Its JSON text. */
  readonly line: string;
  readonly replaced: boolean;
}

/**
 * The event as it may be kept, with its JSON line: a finding in its place when it nests too deep (checked before
 * serialising, which could overflow the stack), cannot be serialised, or is longer than `maxEventBytes`.
 */
export function keepable(event: GatewayEvent, maxEventBytes: number, line?: string): Keepable {
  let problem: 'too-large' | 'too-deep' | 'unserialisable' | undefined;
  let text = line;
  // The event object and its data add two levels to the data's own.
  if (exceedsDepth(event.data, MAX_SAFE_DEPTH - 2)) problem = 'too-deep';
  else {
    text ??= tryStringify(event);
    if (text === undefined) problem = 'unserialisable';
    else if (text.length > maxEventBytes) problem = 'too-large';
  }
  if (problem === undefined && text !== undefined) return { event, line: text, replaced: false };
  const kept = replacement(event, problem ?? 'unserialisable', text?.length, maxEventBytes);
  return { event: kept, line: JSON.stringify(kept), replaced: true };
}
