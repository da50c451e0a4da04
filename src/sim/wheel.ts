// One shared timer for thousands of stations: a hashed wheel of fixed slots keyed by absolute slot number.
// A station keeps at most one entry (its next wake-up); each tick visits only the slots that came due.
import type { Clock } from './clock.js';

export interface Wakeable {
  /** Called at or after the time it asked for; the wakeable reschedules itself if it wants more. */
  wake(now: number): void;
  /** Slot the wheel holds this wakeable in, managed by the wheel. */
  wheelSlot: number;
}

export class TimerWheel {
  readonly #slots = new Map<number, Set<Wakeable>>();
  #done: number; // every slot ≤ #done has been processed
  #cancel: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    readonly slotMs = 100,
  ) {
    this.#done = Math.floor(clock.now() / slotMs);
  }

  start(): void {
    this.#cancel ??= this.clock.repeat(this.slotMs, () => this.tick());
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** Wake `w` at `atMs` (virtual). Replaces its previous entry; Infinity removes it. */
  schedule(w: Wakeable, atMs: number): void {
    const slot = Number.isFinite(atMs) ? Math.max(this.#done + 1, Math.ceil(atMs / this.slotMs)) : -1;
    if (slot === w.wheelSlot) return;
    this.cancel(w);
    if (slot < 0) return;
    let set = this.#slots.get(slot);
    if (!set) this.#slots.set(slot, (set = new Set()));
    set.add(w);
    w.wheelSlot = slot;
  }

  cancel(w: Wakeable): void {
    if (w.wheelSlot < 0) return;
    const set = this.#slots.get(w.wheelSlot);
    set?.delete(w);
    if (set?.size === 0) this.#slots.delete(w.wheelSlot);
    w.wheelSlot = -1;
  }

  get size(): number {
    let n = 0;
    for (const s of this.#slots.values()) n += s.size;
    return n;
  }

  /** Processes every slot that has come due; exposed for tests that drive time by hand. */
  tick(): void {
    const now = this.clock.now();
    const target = Math.floor(now / this.slotMs);
    while (this.#done < target) {
      const slot = ++this.#done;
      const set = this.#slots.get(slot);
      if (!set) continue;
      this.#slots.delete(slot);
      for (const w of set) {
        w.wheelSlot = -1;
        try {
          w.wake(now);
        } catch {
          // A failing station must not stop the others; the station logs its own errors.
        }
      }
    }
  }
}
