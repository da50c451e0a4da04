// Event-loop delay of a harness process (the well-behaved stations, the upstream stand-in): their own delays
// land in the round trips the fuzzer times, so the report shows them beside the gateway's.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelay {
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export class LoopDelayMeter {
  readonly #h: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });

  constructor() {
    this.#h.enable();
  }

  /** The delays since the last take (or start), in ms; starts over. */
  take(): LoopDelay {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const d = { p99: ms(this.#h.percentile(99)), p999: ms(this.#h.percentile(99.9)), max: ms(this.#h.max) };
    this.#h.reset();
    return d;
  }
}

export const formatLoopDelay = (d: LoopDelay): string => `p99 ${d.p99.toFixed(2)} p99.9 ${d.p999.toFixed(2)} max ${d.max.toFixed(2)} ms`;
