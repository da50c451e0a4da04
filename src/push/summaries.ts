// Per-station summaries (what the SOC screen shows), at most one per station per `intervalMs`: the first
// change goes out at once, later ones in the window are folded into one at its end. A summary is a second
// packet per client per event; sent with every meter value it would double the writes of a busy station.
import type { StateSource } from './ports.js';

export interface SummaryDeps {
  readonly state: StateSource;
  readonly intervalMs: number;
  readonly lastSeq: (chargeBoxId: string) => number;
  readonly send: (chargeBoxId: string, payload: unknown) => void;
}

export class SummaryThrottle {
  readonly #d: SummaryDeps;
  readonly #last = new Map<string, string>();
  readonly #dirty = new Set<string>();
  #scheduled = false;
  readonly #windows = new Map<string, NodeJS.Timeout>();
  readonly #trailing = new Set<string>();

  constructor(deps: SummaryDeps) {
    this.#d = deps;
  }

  /** The station changed; its summary follows once every bus listener (the state store too) has seen the event. */
  changed(chargeBoxId: string): void {
    this.#dirty.add(chargeBoxId);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#flush());
  }

  stop(): void {
    for (const t of this.#windows.values()) clearTimeout(t);
    this.#windows.clear();
    this.#trailing.clear();
  }

  #flush(): void {
    this.#scheduled = false;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    for (const id of ids) {
      // Within a station's window the change waits for the window's end (latest state wins).
      if (this.#windows.has(id)) this.#trailing.add(id);
      else this.#send(id);
    }
  }

  #send(id: string): void {
    const summary = this.#d.state.summary(id);
    if (!summary) return;
    const json = JSON.stringify(summary);
    if (this.#last.get(id) === json) return;
    this.#last.set(id, json);
    this.#d.send(id, { ...summary, seq: this.#d.lastSeq(id) });
    const timer = setTimeout(() => {
      this.#windows.delete(id);
      if (this.#trailing.delete(id)) this.#send(id);
    }, this.#d.intervalMs);
    timer.unref();
    this.#windows.set(id, timer);
  }
}
