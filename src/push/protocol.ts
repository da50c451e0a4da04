// The Socket.IO contract: what the server emits, what clients may send, and the shapes of acknowledgements.
// Client payloads arrive as `unknown` and are checked by the handlers.
import type { GatewayEvent } from '../events/catalogue.js';
import type { LogEntry } from '../events/observations.js';
import type { TestRunUpdate } from '../events/test-runs.js';
import type { SchemaViolation } from '../ocpp/validate.js';
import type { FleetEntry } from './fleet-entry.js';
import type { FrameFilterRequest } from './frame-filter.js';
import type { CallOutcome, GatewayMetricsSnapshot, StationSnapshot, StationSummary } from './ports.js';
import type { PushStats } from './stats.js';

/** Closed set of ack error codes. */
export type PushErrorCode = 'forbidden' | 'invalid_params' | 'not_connected' | 'too_large' | 'busy' | 'unreachable' | 'unauthorized' | 'internal';

export interface PushError {
  readonly code: PushErrorCode;
  readonly message: string;
  readonly violation?: SchemaViolation;
}

export type Ack<T extends object = Record<never, never>> = ({ readonly ok: true } & T) | { readonly ok: false; readonly error: PushError };

export interface SubscribeRequest {
  readonly chargeBoxIds?: readonly string[];
  readonly all?: boolean;
  /** Last seq the client holds per station: missed events are replayed after the ack. */
  readonly since?: Readonly<Record<string, number>>;
}

export interface StationSnapshotEntry {
  readonly chargeBoxId: string;
  /** Seq of the newest event the snapshot includes (0: none yet). */
  readonly seq: number;
  readonly snapshot: StationSnapshot | null;
  readonly summary: StationSummary | null;
}

export interface ReplayReport {
  readonly chargeBoxId: string;
  readonly from: number;
  readonly count: number;
  /** Some events after `from` are no longer in the history (or the limit cut them): rely on the snapshot. */
  readonly gap: boolean;
}

export type SubscribeAck = Ack<{
  readonly stations: readonly StationSnapshotEntry[];
  /** Ids the token does not allow. */
  readonly refused: readonly string[];
  readonly all: boolean;
  readonly replay: readonly ReplayReport[];
}>;
/** `fleet:subscribe`: every station the token may see, then `fleet` messages with the changed ones. */
export type FleetAck = Ack<{ readonly stations: readonly FleetEntry[]; readonly intervalMs: number }>;
export type UnsubscribeAck = Ack<{ readonly subscribed: readonly string[]; readonly all: boolean }>;
export type ReplayAck = Ack<{ readonly replay: ReplayReport }>;
export type FramesAck = Ack<{ readonly filter: FrameFilterRequest }>;
export type CallAck = Ack<{ readonly outcome: CallOutcome }>;

export interface MetricsPush {
  readonly at: string;
  readonly gateway: GatewayMetricsSnapshot;
  readonly push: PushStats;
}

export type GoodbyeReason = 'token_expired' | 'slow_consumer' | 'shutdown';

/**
 * Events `from`..`to` (inclusive) of one station that this socket will not get: they left the history before
 * the socket could take them. Sent right before the station's next event; the client should take a fresh
 * snapshot (subscribe to the station again).
 */
export interface GapNotice {
  readonly chargeBoxId: string;
  readonly from: number;
  readonly to: number;
  readonly missed: number;
  readonly reason: 'history';
}

export interface ServerToClientEvents {
  event: (event: GatewayEvent) => void;
  summary: (summary: StationSummary & { readonly seq: number }) => void;
  /** Stations changed since the last tick, after `fleet:subscribe` (one message per PUSH_FLEET_INTERVAL_MS at most). */
  fleet: (update: { readonly stations: readonly FleetEntry[] }) => void;
  frame: (entry: LogEntry) => void;
  /** Frames this socket lost since the last notice because it read too slowly. */
  'frames:lost': (info: { readonly lost: number; readonly totalLost: number }) => void;
  metrics: (metrics: MetricsPush) => void;
  /** Progress of a charger test run, to operators after `tests:subscribe`. */
  test: (update: TestRunUpdate) => void;
  tokenExpiring: (info: { readonly expiresAt: string; readonly inMs: number }) => void;
  /** Sent just before the server disconnects the socket. */
  goodbye: (info: { readonly reason: GoodbyeReason; readonly message: string }) => void;
  gap: (gap: GapNotice) => void;
}

type AckFn<T> = (response: T) => void;

export interface ClientToServerEvents {
  subscribe: (request: unknown, ack: AckFn<SubscribeAck>) => void;
  unsubscribe: (request: unknown, ack: AckFn<UnsubscribeAck>) => void;
  /** The fleet feed: compact per-station entries, batched per tick, instead of every event of every station. */
  'fleet:subscribe': (ack: AckFn<FleetAck>) => void;
  'fleet:unsubscribe': (ack: AckFn<Ack>) => void;
  /** Liveness probe of a page that heard nothing for a while: acked `{ ok: true }`. */
  alive: (ack: AckFn<Ack>) => void;
  replay: (request: unknown, ack: AckFn<ReplayAck>) => void;
  'frames:subscribe': (filter: unknown, ack: AckFn<FramesAck>) => void;
  'frames:filter': (filter: unknown, ack: AckFn<FramesAck>) => void;
  'frames:unsubscribe': (ack: AckFn<Ack>) => void;
  'metrics:subscribe': (ack: AckFn<Ack>) => void;
  'metrics:unsubscribe': (ack: AckFn<Ack>) => void;
  /** Operators: receive `test` updates of every charger test run. */
  'tests:subscribe': (ack: AckFn<Ack>) => void;
  'tests:unsubscribe': (ack: AckFn<Ack>) => void;
  /** Operators: answer a test run's question `{ runId, askId, answer?: "done" | "skipped" }`. */
  'tests:answer': (request: unknown, ack: AckFn<Ack>) => void;
  call: (request: unknown, ack: AckFn<CallAck>) => void;
  /** Simulator control (operators): { op: 'list' | 'create' | 'remove' | 'act', ... }. */
  sim: (request: unknown, ack: AckFn<unknown>) => void;
  /** Fault rules (operators): { op: 'list' | 'set' | 'remove' | 'clear', chargeBoxId, rule?, ruleId? }. */
  faults: (request: unknown, ack: AckFn<unknown>) => void;
}

export function fail(code: PushErrorCode, message: string, violation?: SchemaViolation): { ok: false; error: PushError } {
  return { ok: false, error: { code, message, ...(violation ? { violation } : {}) } };
}
