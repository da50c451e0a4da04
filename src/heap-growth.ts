// How far V8 lets the old generation grow past its live size before the next full collection, set from the room the
// memory ceiling leaves. Why: under a stream of large frames (the fuzz bench's 1 MiB strings) a few MB are promoted
// per scavenge, and V8's own rule, sized for a small live heap (about 30 MB here), grew the limit by a few MB each
// time: a mark-compact every 0.3-1 s, and those pauses were the well-behaved stations' p99. Four times the live size
// made them rare (29-43 → 3 in the same 20 s, BENCHMARKS.md "Fuzz: the old generation's growth"). It is only given
// while twice that fits what the ceiling leaves for the heap, so the documented ceiling still holds; with less room
// the gateway falls back to V8's own rule. V8 reads the flag at each full collection, so setting it at run time
// (v8.setFlagsFromString) takes effect: measured, 3 major GCs against 29 in the same fuzz run.
import v8 from 'node:v8';

/** The most the old generation may grow past its live size, in percent (V8's --heap-growing-percent): 4×. */
export const MAX_GROWTH_PERCENT = 300;
/** Below 2× there is nothing to gain over V8's own rule. */
const MIN_GROWTH_PERCENT = 100;
/** Room kept for what grows between two samples: the limit V8 sets uses the live size of the next collection. */
const MARGIN = 2;

/**
 * The growth to give V8 for a heap of `usedBytes` when the heap may take `roomBytes`: 0 (V8's own rule) unless
 * `MARGIN` × used × (1 + percent/100) fits the room for at least 2×; at most `maxPercent` (HEAP_GROWTH_MAX_PERCENT).
 */
export function growthPercent(usedBytes: number, roomBytes: number, maxPercent: number = MAX_GROWTH_PERCENT): number {
  if (!(usedBytes > 0) || !(roomBytes > 0)) return 0;
  const factor = Math.min(1 + maxPercent / 100, roomBytes / (MARGIN * usedBytes));
  const percent = Math.floor((factor - 1) * 100 + 1e-9); // 2.15× is 115, not 114.99…
  // An operator's cap under 2× is taken as given; otherwise below 2× V8's own rule does as well.
  return percent > 0 && percent >= Math.min(MIN_GROWTH_PERCENT, maxPercent) ? percent : 0;
}

export interface HeapGrowthOptions {
  /** The RSS the gateway may reach (the memory report's ceiling). */
  readonly ceilingBytes: () => number;
  /** HEAP_GROWTH_MAX_PERCENT; MAX_GROWTH_PERCENT by default. */
  readonly maxPercent?: number;
  /** Applies a V8 flag; v8.setFlagsFromString by default (tests pass their own). */
  readonly setFlags?: (flags: string) => void;
  readonly memoryUsage?: () => Pick<NodeJS.MemoryUsage, 'rss' | 'heapTotal' | 'heapUsed'>;
  readonly sampleMs?: number;
}

export interface HeapGrowthStats {
  /** What V8 was last told; 0: its own rule. */
  readonly growthPercent: number;
  /** How often it changed since start. */
  readonly changes: number;
}

export class HeapGrowth {
  readonly #opts: HeapGrowthOptions;
  readonly #setFlags: (flags: string) => void;
  readonly #timer: NodeJS.Timeout;
  #percent = -1;
  #changes = 0;

  constructor(opts: HeapGrowthOptions) {
    this.#opts = opts;
    this.#setFlags = opts.setFlags ?? ((f) => v8.setFlagsFromString(f));
    this.#timer = setInterval(() => this.sample(), opts.sampleMs ?? 1000);
    this.#timer.unref();
    this.sample();
  }

  /** Reads the heap and the ceiling and tells V8 when the growth it may have changed. */
  sample(): void {
    const { rss, heapTotal, heapUsed } = (this.#opts.memoryUsage ?? process.memoryUsage)();
    // The heap's share of the ceiling: what is not heap (code, Buffers, stacks) is taken as it is now.
    const room = this.#opts.ceilingBytes() - Math.max(0, rss - heapTotal);
    const percent = growthPercent(heapUsed, room, this.#opts.maxPercent);
    if (percent === this.#percent) return;
    this.#setFlags(`--heap-growing-percent=${percent}`);
    if (this.#percent !== -1) this.#changes++;
    this.#percent = percent;
  }

  stats(): HeapGrowthStats {
    return { growthPercent: Math.max(0, this.#percent), changes: this.#changes };
  }

  /** Stops sampling and gives V8 its own rule back. */
  close(): void {
    clearInterval(this.#timer);
    if (this.#percent > 0) this.#setFlags('--heap-growing-percent=0');
    this.#percent = 0;
  }
}
