// A seeded pseudo-random sequence per fault rule (mulberry32): the same seed on the same frames makes the same
// choices, so a run with faults can be repeated. Not for anything secret.
import type { DelaySpec } from './rule.js';

export class SeededRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A delay in ms drawn from the spec: fixed, uniform, or normal (Box-Muller), never negative. */
  delay(spec: DelaySpec): number {
    if ('ms' in spec) return spec.ms;
    if ('min' in spec) return spec.min + this.next() * (spec.max - spec.min);
    const u = 1 - this.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    return Math.max(0, spec.mean + z * spec.sd);
  }
}
