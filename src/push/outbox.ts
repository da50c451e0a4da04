// A socket's bounded waiting line for the live frame stream (events are never queued: they wait in the event
// history, see paced-delivery.ts). Lossy items are dropped when it is full and the caller counts them;
// coalesced items replace their own older copy; items that must never be dropped report overflow instead.

/** keep: never dropped; coalesce: a newer item with the same key replaces it; lossy: dropped when full. */
export type Delivery = 'keep' | 'coalesce' | 'lossy';

export interface OutboxItem {
  readonly name: string;
  readonly payload: unknown;
  readonly delivery: Delivery;
  /** Required for 'coalesce'. */
  readonly key?: string;
}

/** queued: added; coalesced: replaced an older copy; dropped: something (this item or an older lossy one) was dropped. */
export type PushOutcome = 'queued' | 'coalesced' | 'dropped' | 'overflow';

export class Outbox {
  // Maps keep insertion order, so delete + set moves a coalesced item to the back, keeping seq increasing.
  readonly #items = new Map<number, OutboxItem>();
  readonly #byKey = new Map<string, number>();
  /** Ids of items that may be evicted (coalesce + lossy), oldest first. */
  readonly #evictable = new Set<number>();
  #next = 0;

  constructor(readonly limit: number) {}

  get size(): number {
    return this.#items.size;
  }

  push(item: OutboxItem): PushOutcome {
    if (item.delivery === 'coalesce' && item.key !== undefined) {
      const old = this.#byKey.get(item.key);
      if (old !== undefined) {
        this.#remove(old);
        this.#add(item);
        return 'coalesced';
      }
    }
    if (this.#items.size < this.limit) {
      this.#add(item);
      return 'queued';
    }
    if (item.delivery === 'lossy') return 'dropped';
    const oldest = this.#evictable.values().next();
    if (oldest.done) return item.delivery === 'keep' ? 'overflow' : 'dropped';
    this.#remove(oldest.value);
    this.#add(item);
    return 'dropped';
  }

  shift(): OutboxItem | undefined {
    const first = this.#items.entries().next();
    if (first.done) return undefined;
    this.#remove(first.value[0]);
    return first.value[1];
  }

  clear(): void {
    this.#items.clear();
    this.#byKey.clear();
    this.#evictable.clear();
  }

  #add(item: OutboxItem): void {
    const id = this.#next++;
    this.#items.set(id, item);
    if (item.delivery !== 'keep') this.#evictable.add(id);
    if (item.delivery === 'coalesce' && item.key !== undefined) this.#byKey.set(item.key, id);
  }

  #remove(id: number): void {
    const item = this.#items.get(id);
    if (!item) return;
    this.#items.delete(id);
    this.#evictable.delete(id);
    if (item.key !== undefined && this.#byKey.get(item.key) === id) this.#byKey.delete(item.key);
  }
}
