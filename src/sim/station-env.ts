// What a simulated station's parts share: the simulator-wide environment, the limits, the counters.
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { QueueStore } from './queue-store.js';
import type { SimTransport } from './transport.js';
import type { TimerWheel } from './wheel.js';

export interface SimLimits {
  /** Most transaction messages a station keeps while offline. */
  readonly queueLimit: number;
  /** Most bytes of them (their payloads as JSON) a station keeps while offline. */
  readonly queueBytes: number;
  readonly callTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Time from power-on (or reboot) to the first connection attempt. */
  readonly bootDelayMs: number;
}

export const DEFAULT_LIMITS: SimLimits = { queueLimit: 1000, queueBytes: 1024 * 1024, callTimeoutMs: 30_000, reconnectMinMs: 1000, reconnectMaxMs: 60_000, bootDelayMs: 2000 };

/** What all stations of one simulator share. */
export interface StationEnv {
  readonly clock: Clock;
  readonly wheel: TimerWheel;
  readonly transport: SimTransport;
  readonly store: QueueStore;
  readonly logger: Logger;
  readonly limits: SimLimits;
  readonly random: () => number;
}

export interface StationCounters {
  framesOut: number;
  framesIn: number;
  boots: number;
  connects: number;
  txStarted: number;
  txStopped: number;
  energyWh: number;
  callErrors: number;
  timeouts: number;
  dropped: number;
  /** Of `dropped`, transaction messages dropped because the offline queue was over its bytes (limits.queueBytes). */
  droppedForBytes?: number;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
