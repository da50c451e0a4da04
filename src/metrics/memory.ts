// What the gateway's memory may reach and what it holds: the RSS ceiling is a measured base plus every byte budget
// (global ones once, per-station ones for each station connected at the peak, per-client ones for each Socket.IO
// client at the peak), reported with the current RSS, the budgets, their use and the drops they caused.
import { Gauge, type Registry } from 'prom-client';
import type { Bus } from '../events/bus.js';

/**
 * RSS of an idle gateway on Node 20 (code, V8 heap, ajv's compiled schemas, Express, Socket.IO, the default
 * simulated stations), measured at 125-145 MiB under tsx and rounded up. See README "Memory".
 */
export const BASE_RSS_BYTES = 192 * 1024 * 1024;

/**
 * V8 starts a full collection when the old generation has grown by about its live size, so the heap may hold as
 * much garbage as live data: the budgets (live data) count twice towards the ceiling.
 */
export const GC_FACTOR = 2;

export interface MemoryBudgets {
  /** Budgets that exist once per process, in bytes. */
  readonly global: Readonly<Record<string, number>>;
  /** Budgets that exist once per connected station. */
  readonly perStation: Readonly<Record<string, number>>;
  /** Budgets that exist once per Socket.IO client. */
  readonly perPushClient: Readonly<Record<string, number>>;
}

export interface MemorySources {
  readonly budgets: MemoryBudgets;
  /** Bytes the budgets hold now (estimated the way each budget counts). */
  readonly used: () => Record<string, number>;
  /** What each budget refused or pushed out since start. */
  readonly drops: () => Record<string, number>;
  readonly pushClients: () => number;
  readonly baseBytes?: number;
  /** Sampling period of RSS and client counts for the peaks (default 1 s). */
  readonly sampleMs?: number;
}

export interface MemoryHealth {
  readonly rssBytes: number;
  readonly peakRssBytes: number;
  readonly heapUsedBytes: number;
  /** baseBytes + GC_FACTOR × (Σ global + peakStations × Σ perStation + peakPushClients × Σ perPushClient). */
  readonly ceilingBytes: number;
  readonly ceiling: {
    readonly baseBytes: number;
    readonly gcFactor: number;
    readonly globalBytes: number;
    readonly perStationBytes: number;
    readonly peakStations: number;
    readonly perPushClientBytes: number;
    readonly peakPushClients: number;
  };
  readonly budgets: MemoryBudgets;
  readonly used: Record<string, number>;
  readonly drops: Record<string, number>;
}

const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);

const ceilingOf = (c: MemoryHealth['ceiling']): number =>
  c.baseBytes + c.gcFactor * (c.globalBytes + c.peakStations * c.perStationBytes + c.peakPushClients * c.perPushClientBytes);

export class MemoryReport {
  readonly #sources: MemorySources;
  readonly #timer: NodeJS.Timeout;
  readonly #off: () => void;
  #stations = 0;
  #peakStations = 0;
  #peakPushClients = 0;
  #peakRss = 0;

  constructor(bus: Bus, sources: MemorySources, registry?: Registry) {
    this.#sources = sources;
    // Exact station counts from the link events: a burst of connections between two samples still counts.
    this.#off = bus.on('link', (l) => {
      if (l.kind === 'connected') this.#peakStations = Math.max(this.#peakStations, ++this.#stations);
      else if (l.kind === 'disconnected') this.#stations = Math.max(0, this.#stations - 1);
    });
    this.#timer = setInterval(() => this.#sample(), sources.sampleMs ?? 1000);
    this.#timer.unref();
    this.#sample();
    if (registry) this.#register(registry);
  }

  snapshot(): MemoryHealth {
    const { rss, heapUsed } = this.#sample();
    const { budgets } = this.#sources;
    const ceiling = this.#ceiling();
    return {
      rssBytes: rss,
      peakRssBytes: this.#peakRss,
      heapUsedBytes: heapUsed,
      ceilingBytes: ceilingOf(ceiling),
      ceiling,
      budgets,
      used: this.#sources.used(),
      drops: this.#sources.drops(),
    };
  }

  /** The ceiling alone, as snapshot() gives it, without reading what the budgets hold (the heap's growth asks often). */
  ceilingBytes(): number {
    return ceilingOf(this.#ceiling());
  }

  #ceiling(): MemoryHealth['ceiling'] {
    const { budgets } = this.#sources;
    return {
      baseBytes: this.#sources.baseBytes ?? BASE_RSS_BYTES,
      gcFactor: GC_FACTOR,
      globalBytes: sum(budgets.global),
      perStationBytes: sum(budgets.perStation),
      peakStations: this.#peakStations,
      perPushClientBytes: sum(budgets.perPushClient),
      peakPushClients: this.#peakPushClients,
    };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#off();
  }

  #sample(): NodeJS.MemoryUsage {
    const usage = process.memoryUsage();
    // maxRSS is the kernel's high-water mark (KiB): it sees spikes between two samples.
    this.#peakRss = Math.max(this.#peakRss, usage.rss, process.resourceUsage().maxRSS * 1024);
    this.#peakPushClients = Math.max(this.#peakPushClients, this.#sources.pushClients());
    return usage;
  }

  #register(registry: Registry): void {
    for (const name of ['chargebridge_memory_ceiling_bytes', 'chargebridge_memory_budget_drops']) registry.removeSingleMetric(name);
    const report = this;
    new Gauge({
      name: 'chargebridge_memory_ceiling_bytes',
      help: 'Documented RSS ceiling: measured base + every byte budget (per-station and per-client ones at their peak counts)',
      registers: [registry],
      collect() {
        this.set(report.snapshot().ceilingBytes);
      },
    });
    new Gauge({
      name: 'chargebridge_memory_budget_drops',
      help: 'Items refused or pushed out by a byte budget since start, by budget',
      labelNames: ['budget'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [budget, n] of Object.entries(report.#sources.drops())) this.set({ budget }, n);
      },
    });
  }
}
