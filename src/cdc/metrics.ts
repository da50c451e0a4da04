// The reader's Prometheus metrics, registered on the gateway's registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export const CDC_STATES = ['starting', 'snapshotting', 'streaming', 'reconnecting', 'stopped', 'failed'] as const;
export type CdcState = (typeof CDC_STATES)[number];

/** What the reader records; the reader thread (worker.ts) passes these on to the main thread's registry. */
export interface CdcMetrics {
  setState(state: CdcState): void;
  readonly lag: { set(seconds: number): void };
  /** Counts one emitted event; kept in a map and copied to Prometheus on scrape (this runs once per event). */
  countEvent(type: string): void;
  readonly reconnects: { inc(): void };
  readonly snapshots: { inc(labels: { reason: string }): void };
  readonly unmapped: { inc(labels: { table: string }): void };
}

export function createCdcMetrics(registry: Registry): CdcMetrics {
  const registers = [registry];
  const eventCounts = new Map<string, number>();
  const state = new Gauge({
    name: 'chargebridge_cdc_state',
    help: 'Binlog reader state: 1 for the current state, 0 for the others',
    labelNames: ['state'],
    registers,
  });
  new Counter({
    name: 'chargebridge_cdc_events_total',
    help: 'Events emitted from SteVe\'s binlog, by type',
    labelNames: ['type'],
    registers,
    collect() {
      this.reset();
      for (const [type, n] of eventCounts) this.inc({ type }, n);
    },
  });
  return {
    setState(s) {
      for (const name of CDC_STATES) state.set({ state: name }, name === s ? 1 : 0);
    },
    lag: new Gauge({ name: 'chargebridge_cdc_lag_seconds', help: 'Seconds between a change being committed in SteVe and the reader handing it on', registers }),
    countEvent(type) {
      eventCounts.set(type, (eventCounts.get(type) ?? 0) + 1);
    },
    reconnects: new Counter({ name: 'chargebridge_cdc_reconnects_total', help: 'Binlog connections re-established after a failure', registers }),
    snapshots: new Counter({ name: 'chargebridge_cdc_snapshots_total', help: 'Consistent snapshots taken, by reason', labelNames: ['reason'], registers }),
    unmapped: new Counter({
      name: 'chargebridge_cdc_unmapped_rows_total',
      help: 'Rows naming a connector or transaction no longer in the database (not attributable, skipped)',
      labelNames: ['table'],
      registers,
    }),
  };
}
