// The gateway's live figures for operators (pushed every few seconds): frame rates and call round trips over
// a sliding window, fed from the bus like the Prometheus metrics.
import type { Bus } from '../events/bus.js';

const WINDOW_S = 10;
const RTT_SAMPLES = 2048;

export interface LiveFigures {
  /** Frames per second over the last WINDOW_S seconds: from stations, and towards stations. */
  readonly framesPerSecond: { readonly in: number; readonly out: number };
  /** Round trip of station calls through the gateway to the central system and back. */
  readonly relayRttMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null };
}

export class LiveMetrics {
  // One bucket per second, for each direction; the bucket index is the second modulo WINDOW_S.
  readonly #in = new Array<number>(WINDOW_S).fill(0);
  readonly #out = new Array<number>(WINDOW_S).fill(0);
  #second = Math.floor(Date.now() / 1000);
  readonly #rtt = new Float64Array(RTT_SAMPLES);
  #rttCount = 0;
  readonly #off: () => void;

  constructor(bus: Bus) {
    this.#off = bus.on('frame', (f) => {
      this.#advance();
      const i = this.#second % WINDOW_S;
      if (f.leg === 'station' && f.direction === 'in') this.#in[i] = (this.#in[i] ?? 0) + 1;
      else if (f.leg === 'upstream' || f.direction === 'out') this.#out[i] = (this.#out[i] ?? 0) + 1;
      // Answers from the upstream to a station's call: the round trip a charger sees through the gateway.
      if (f.leg === 'upstream' && f.rttMs !== undefined) this.#rtt[this.#rttCount++ % RTT_SAMPLES] = f.rttMs;
    });
  }

  snapshot(): LiveFigures {
    this.#advance();
    const sum = (a: number[]): number => a.reduce((s, n) => s + n, 0);
    const n = Math.min(this.#rttCount, RTT_SAMPLES);
    const sorted = Array.from(this.#rtt.subarray(0, n)).sort((a, b) => a - b);
    const pct = (p: number): number | null => (n === 0 ? null : (sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] ?? null));
    return {
      framesPerSecond: { in: sum(this.#in) / WINDOW_S, out: sum(this.#out) / WINDOW_S },
      relayRttMs: { p50: pct(50), p95: pct(95), p99: pct(99) },
    };
  }

  close(): void {
    this.#off();
  }

  /** Clears the buckets of the seconds that passed since the last frame. */
  #advance(): void {
    const now = Math.floor(Date.now() / 1000);
    for (let s = Math.max(this.#second + 1, now - WINDOW_S + 1); s <= now; s++) {
      this.#in[s % WINDOW_S] = 0;
      this.#out[s % WINDOW_S] = 0;
    }
    this.#second = Math.max(this.#second, now);
  }
}
