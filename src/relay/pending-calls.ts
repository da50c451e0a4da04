// Calls in flight on one connection in one direction. Message ids are only unique per connection and direction
// (MicroOcpp reuses them across chargers), so every session owns two of these.

export type CallOwner = 'station' | 'steve' | 'local-cs' | 'gateway';

export interface PendingCall {
  readonly action: string;
  readonly owner: CallOwner;
  /** performance.now() when the CALL was forwarded. */
  readonly sentAt: number;
  readonly deadline: number;
}

export class PendingCalls {
  readonly #calls = new Map<string, PendingCall>();

  add(id: string, call: PendingCall): void {
    this.#calls.set(id, call);
  }

  /** The call an answer belongs to, left in place. */
  peek(id: string): PendingCall | undefined {
    return this.#calls.get(id);
  }

  /** Removes and returns the call an answer belongs to. */
  take(id: string): PendingCall | undefined {
    const call = this.#calls.get(id);
    if (call) this.#calls.delete(id);
    return call;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** Removes and returns calls past their deadline. */
  expire(now: number): [string, PendingCall][] {
    const expired: [string, PendingCall][] = [];
    for (const entry of this.#calls) if (entry[1].deadline <= now) expired.push(entry);
    for (const [id] of expired) this.#calls.delete(id);
    return expired;
  }

  clear(): void {
    this.#calls.clear();
  }
}
