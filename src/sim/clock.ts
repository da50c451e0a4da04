// Time for simulated stations. Everything in src/sim reads time through a Clock so tests can run the
// stations (battery, meter intervals, timeouts, backoff) faster than real time, or step it by hand.

export interface Clock {
  /** Virtual wall-clock time in ms since the epoch (station timestamps are taken from it). */
  now(): number;
  /** Calls fn about every periodMs of virtual time until the returned cancel is called. */
  repeat(periodMs: number, fn: () => void): () => void;
}

/** Real time. */
export const realClock: Clock = {
  now: () => Date.now(),
  repeat(periodMs, fn) {
    const t = setInterval(fn, periodMs);
    t.unref();
    return () => clearInterval(t);
  },
};

/** Virtual time running `speed` times faster than real time, starting at the real time of creation. */
export function scaledClock(speed: number, minRealPeriodMs = 5): Clock {
  if (!(speed > 0)) throw new RangeError('clock speed must be > 0');
  const epoch = Date.now();
  const origin = performance.now();
  return {
    now: () => epoch + (performance.now() - origin) * speed,
    repeat(periodMs, fn) {
      const t = setInterval(fn, Math.max(minRealPeriodMs, periodMs / speed));
      t.unref();
      return () => clearInterval(t);
    },
  };
}

/** Time that moves only when advance() is called; periodic callbacks fire in order on the way. */
export class ManualClock implements Clock {
  #now: number;
  readonly #repeats = new Set<{ periodMs: number; next: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  repeat(periodMs: number, fn: () => void): () => void {
    const r = { periodMs, next: this.#now + periodMs, fn };
    this.#repeats.add(r);
    return () => this.#repeats.delete(r);
  }

  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let due: { periodMs: number; next: number; fn: () => void } | undefined;
      for (const r of this.#repeats) if (r.next <= end && (!due || r.next < due.next)) due = r;
      if (!due) break;
      this.#now = due.next;
      due.next += due.periodMs;
      due.fn();
    }
    this.#now = end;
  }
}
