// What the simulator offers its users (REST, Socket.IO commands, scenarios, the gateway): the Simulator interface,
// its aggregate figures and its errors. index.ts builds one; its control surfaces depend only on this.
import type { Router } from 'express';
import type { Clock } from './clock.js';
import type { SimAction, SimStationSpec } from './spec.js';
import type { ActResult, SimStationInfo } from './station.js';

export type SimErrorCode = 'not_found' | 'invalid' | 'conflict';

export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SimError';
  }
}

export interface SimTotals {
  readonly stations: number;
  readonly online: number;
  readonly booted: number;
  readonly charging: number;
  readonly queued: number;
  readonly framesOut: number;
  readonly framesIn: number;
  readonly txStarted: number;
  readonly txStopped: number;
  readonly energyWh: number;
  readonly callErrors: number;
  readonly timeouts: number;
  readonly dropped: number;
  /** Of `dropped`, transaction messages the offline queues lost to their byte budget (SIM_QUEUE_BYTES). */
  readonly droppedForBytes: number;
}

export interface Simulator {
  start(): Promise<void>;
  stop(): Promise<void>;
  create(spec: SimStationSpec): SimStationInfo;
  remove(id: string): void;
  list(): SimStationInfo[];
  get(id: string): SimStationInfo;
  act(id: string, action: SimAction): Promise<ActResult & { readonly station: SimStationInfo }>;
  /** Aggregate figures without building per-station views (cheap at 10,000 stations). */
  totals(): SimTotals;
  /** REST control: GET/POST /stations, GET/DELETE /stations/:id, POST /stations/:id/actions/:type. */
  router(): Router;
  readonly clock: Clock;
}
