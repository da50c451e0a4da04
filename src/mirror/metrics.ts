// Prometheus gauges per mirror upstream, read from its links when scraped (never per frame). Labelled by mirror
// id and link state only: station ids would mint a series per station.
import { Gauge, type Registry } from 'prom-client';
import type { MirrorSummary, MirrorWorkerHealth } from './index.js';

export function registerMirrorMetrics(registry: Registry, summaries: () => MirrorSummary[], worker: () => MirrorWorkerHealth): void {
  const gauge = (name: string, help: string, read: (s: MirrorSummary) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['mirror'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of summaries()) this.set({ mirror: s.id }, read(s));
      },
    });
  };
  new Gauge({
    name: 'chargebridge_mirror_links',
    help: 'Station links of each mirror upstream, by state (connecting, open, backoff)',
    labelNames: ['mirror', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of summaries()) for (const [state, n] of Object.entries(s.links)) this.set({ mirror: s.id, state }, n);
    },
  });
  gauge('chargebridge_mirror_lag_seconds', 'Age of the oldest frame a mirror has not been sent yet, largest over its links', (s) => s.lagMs / 1000);
  gauge('chargebridge_mirror_queued_bytes', 'UTF-8 bytes queued for a mirror, all its links (budget MIRROR_QUEUE_BYTES per link)', (s) => s.queuedBytes);
  gauge('chargebridge_mirror_sent_total', 'Frames written to a mirror since start', (s) => s.sent);
  gauge('chargebridge_mirror_dropped_total', 'Frames not sent to a mirror since start: its queue was full, the worker was not taking them, or a worker that crashed or stalled held them', (s) => s.dropped);
  gauge('chargebridge_mirror_reconnects_total', 'Reconnects to a mirror since start', (s) => s.reconnects);
  gauge('chargebridge_mirror_calls_refused_total', 'Calls from a mirror refused with a CALLERROR (action not allowed)', (s) => s.callsRefused);
  gauge('chargebridge_mirror_calls_relayed_total', 'Calls from a mirror relayed to the station (allowActions)', (s) => s.callsRelayed);
  new Gauge({
    name: 'chargebridge_mirror_worker_dropped_total',
    help: 'Frames the mirror worker never took, since start (also in the dropped count of each mirror they were for): backlog = not handed to it (gone or not taking them), unacknowledged = posted to a worker that crashed or stalled before it took them',
    labelNames: ['cause'],
    registers: [registry],
    collect() {
      const h = worker();
      this.set({ cause: 'backlog' }, h.backlogDrops);
      this.set({ cause: 'unacknowledged' }, h.unacknowledgedDrops);
    },
  });
  new Gauge({
    name: 'chargebridge_mirror_worker_restarts_total',
    help: 'Restarts of the mirror worker thread (it crashed or stopped reporting) since start',
    registers: [registry],
    collect() {
      this.set(worker().restarts);
    },
  });
}
