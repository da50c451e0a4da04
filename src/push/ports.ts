// What the push server needs from the rest of the gateway, as narrow ports. main.ts plugs in the event model
// (src/events), the relay and the metrics collector; tests plug in small real implementations fed from the bus.
import type { GatewayEvent, LinkKind } from '../events/catalogue.js';
import type { LogEntry, UpstreamState } from '../events/observations.js';
import type { StationLink, StationSnapshot, StationSummary } from '../events/station-state.js';

export type { StationSnapshot, StationSummary };

/** Per-station state built from events (src/events/station-state.ts StationStateStore). */
export interface StateSource {
  snapshot(chargeBoxId: string): StationSnapshot | undefined;
  ids(): readonly string[];
  summary(chargeBoxId: string): StationSummary | undefined;
  /** Seq, link and last-seen of a station, without copying its state (the fleet feed's per-tick read). */
  link(chargeBoxId: string): StationLink | undefined;
}

/** Bounded per-station event history (src/events/history.ts EventHistory). */
export interface HistorySource {
  /** Events with seq greater than `seq`, oldest first. */
  since(chargeBoxId: string, seq: number): readonly GatewayEvent[];
  /** Seq of the station's newest event (0: none); known from the journal right after a restart. */
  lastSeq(chargeBoxId: string): number;
}

/** The relay's call mechanism and its answer (throws GW_ERR_STATION_NOT_CONNECTED when it holds no link). */
export type { CallOutcome } from '../relay/relay.js';
export type { CallPort as CallsPort } from '../relay/commands.js';

/** Gateway-wide figures the lead's metrics collector provides; push adds its own client figures. */
export interface GatewayMetricsSnapshot {
  readonly framesPerSecond: { readonly in: number; readonly out: number };
  readonly relayRttMs: { readonly p50: number | null; readonly p95: number | null; readonly p99: number | null };
  readonly links: Readonly<Partial<Record<LinkKind, number>>>;
  readonly upstreams: Readonly<Partial<Record<UpstreamState, number>>>;
  readonly binlog?: { readonly state: string; readonly lagMs?: number | null };
  /** Each mirror upstream: its station links by state, largest lag and frames dropped (src/mirror). */
  readonly mirrors?: readonly { readonly id: string; readonly links: Readonly<Record<string, number>>; readonly lagMs: number; readonly dropped: number }[];
}

/** Simulator control for operators (Socket.IO `sim`); the answer is passed to the ack as it is. */
export interface SimControlPort {
  command(request: unknown): Promise<unknown>;
}

/** Answers a charger test run's pending question (Socket.IO `tests:answer`; src/charger-tests TestRuns). */
export interface TestAnswerPort {
  /** In cluster mode the run may be kept by another node, which may not answer. */
  answer(runId: string, askId: string, answer: 'done' | 'skipped'): Promise<'ok' | 'no_run' | 'no_ask' | { readonly unreachable: string }>;
}

/** Cluster mode: frames logged by other nodes (each with `node`), for the live frame stream; `want` tells the
 * cluster whether this node has frame clients (src/cluster/routed-frames.ts). */
export interface RemoteFramesPort {
  on(deliver: (entry: LogEntry) => void): () => void;
  want(wanted: boolean): void;
}
