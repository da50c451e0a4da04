// Prometheus metrics for the relay, fed from the bus (copies of frames and link changes), never from the hot path.
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { Bus } from '../events/bus.js';
import type { LinkKind } from '../events/catalogue.js';
import { isOcpp16Action } from '../ocpp/validate.js';
import { fastHistogram } from './fast-histogram.js';

export interface RelayMetricsSources {
  readonly openLinks: () => ReadonlyMap<LinkKind, number>;
  readonly upstreamStates: () => ReadonlyMap<string, number>;
}

/** The label of every action that is not an OCPP 1.6 name. */
export const OTHER_ACTION = 'other';

export function registerRelayMetrics(bus: Bus, registry: Registry, sources: RelayMetricsSources): () => void {
  // Counted in plain maps and copied into the counter when scraped: prom-client builds a label key string on
  // every inc(), and this runs for every frame.
  const frameCounts = new Map<string, Map<string, Map<string, Map<string, number>>>>();
  new Counter({
    name: 'chargebridge_frames_total',
    help: 'OCPP-J frames seen, by leg, direction, disposition and action (OCPP 1.6 names; any other is "other")',
    labelNames: ['leg', 'direction', 'disposition', 'action'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [leg, byDirection] of frameCounts)
        for (const [direction, byDisposition] of byDirection)
          for (const [disposition, byAction] of byDisposition)
            for (const [action, n] of byAction) this.inc({ leg, direction, disposition, action }, n);
    },
  });
  // Observed twice per relayed call: counted without allocating (fast-histogram.ts).
  const [forward] = fastHistogram({
    name: 'chargebridge_relay_forward_seconds',
    help: 'Time a frame spent inside the gateway before it was written to the other leg',
    buckets: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
    registry,
    series: [],
  }).series;
  const [rttStation, rttUpstream] = fastHistogram({
    name: 'chargebridge_call_round_trip_seconds',
    help: 'CALL to answer round trip seen by the gateway, by the leg the answer came from',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registry,
    series: [{ leg: 'station' }, { leg: 'upstream' }],
  }).series;
  const upstreamOpens = new Counter({
    name: 'chargebridge_upstream_opens_total',
    help: 'Upstream connections opened (first connects and reconnects)',
    registers: [registry],
  });
  const timeouts = new Counter({
    name: 'chargebridge_call_timeouts_total',
    help: 'Calls unanswered after the call timeout, by the leg that failed to answer',
    labelNames: ['leg'] as const,
    registers: [registry],
  });
  const findings = new Counter({
    name: 'chargebridge_findings_total',
    help: 'Frames recorded with findings (schema violations, framing problems)',
    registers: [registry],
  });
  new Gauge({
    name: 'chargebridge_open_links',
    help: 'Open station links by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, n] of sources.openLinks()) this.set({ kind }, n);
    },
  });
  new Gauge({
    name: 'chargebridge_upstreams',
    help: 'Station upstreams by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of sources.upstreamStates()) this.set({ state }, n);
    },
  });

  const offFrame = bus.on('frame', (f) => {
    const byAction = branch(branch(branch(frameCounts, f.leg), f.direction), f.disposition);
    // The action is wire text: only OCPP 1.6 names become labels, so a station cannot mint series without end.
    const action = f.action === undefined ? '' : isOcpp16Action(f.action) ? f.action : OTHER_ACTION;
    byAction.set(action, (byAction.get(action) ?? 0) + 1);
    if (f.forwardUs !== undefined) forward?.observe(f.forwardUs / 1e6);
    if (f.rttMs !== undefined) (f.leg === 'station' ? rttStation : rttUpstream)?.observe(f.rttMs / 1000);
  });
  const offLink = bus.on('link', (l) => {
    if (l.kind === 'upstream' && (l.state === 'open' || l.state === 'local')) upstreamOpens.inc();
    if (l.kind === 'callTimeout') timeouts.inc({ leg: l.leg });
  });
  const offLogged = bus.on('logged', (e) => {
    if (e.findings.length > 0) findings.inc();
  });
  return () => {
    offFrame();
    offLink();
    offLogged();
  };
}

function branch<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let next = map.get(key);
  if (next === undefined) map.set(key, (next = new Map()));
  return next;
}
