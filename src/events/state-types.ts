// The shapes the station state hands out (snapshots, summaries) and the per-station record it keeps inside.
import type { EventDataMap, EventSource, LinkKind, Mutable, VehicleData } from './catalogue.js';

export interface ConnectorState {
  readonly connectorId: number;
  readonly status: string;
  readonly errorCode: string;
  readonly info?: string;
  readonly timestamp: string;
  readonly source: EventSource;
  readonly synthetic: boolean;
}

export interface MeterSample {
  readonly measurand: string;
  readonly value: string;
  readonly unit?: string;
  readonly phase?: string;
  readonly location?: string;
  readonly context?: string;
  readonly timestamp: string;
  readonly transactionId?: number;
  readonly source: EventSource;
}

export type VehicleSource = 'meterValues' | 'preChargeData';

export interface VehicleState extends VehicleData {
  /** What last updated the vehicle, and when (station time). */
  readonly source: VehicleSource;
  readonly updatedAt: string;
  readonly ageMs: number;
  readonly socSource?: VehicleSource;
  readonly socAt?: string;
}

/** Last live figures of a session (V, A, W, °C), kept with the transaction once it ends. */
export interface SessionFigures {
  readonly voltage?: number;
  readonly current?: number;
  readonly power?: number;
  readonly temperature?: number;
}

export interface TransactionRecord {
  readonly transactionId?: number;
  readonly connectorId?: number;
  readonly idTag: string;
  readonly startTime: string;
  readonly meterStart: number;
  readonly open: boolean;
  /**
   * Never stopped, but it can no longer be running: a newer transaction started on its connector or the station
   * rebooted. Not open; a StopTransaction that turns up later still closes it (and clears this).
   */
  readonly stale?: true;
  readonly stopTime?: string;
  readonly meterStop?: number;
  readonly stopReason?: string;
  readonly stopActor?: 'station' | 'manual';
  /** Wh so far (open, from the energy register) or in total (stopped). */
  readonly energyWh?: number;
  readonly socStart?: number;
  readonly socEnd?: number;
  readonly socGained?: number;
  /** The session's last voltage, current, power and temperature samples. */
  readonly finalValues?: SessionFigures;
  readonly source: EventSource;
}

export interface StationSnapshot {
  readonly chargeBoxId: string;
  /** seq of the last event applied: replay from the history after this to stay gap-free. */
  readonly seq: number;
  readonly online: boolean;
  readonly lastSeen?: string;
  readonly linkKind?: LinkKind;
  readonly upstream?: 'steve' | 'local';
  readonly boot?: EventDataMap['bootNotification'];
  readonly connectors: readonly ConnectorState[];
  readonly openTransactions: readonly TransactionRecord[];
  readonly recentTransactions: readonly TransactionRecord[];
  /** Last sample per measurand (and phase/location) per connector. */
  readonly meter: readonly { readonly connectorId: number; readonly samples: readonly MeterSample[] }[];
  /** The vehicle on the connector the station summary shows (kept for single-connector clients). */
  readonly vehicle?: VehicleState;
  /** The vehicle on each connector. */
  readonly vehicles: readonly (VehicleState & { readonly connectorId: number })[];
}

/** What the flashCharge SOC screen shows for one connector. Units: %, km, V, A, W, Wh, °C; null when unknown. */
export interface ConnectorSummary {
  readonly connectorId: number;
  readonly status: string | null;
  readonly soc: number | null;
  readonly model: string | null;
  readonly range: number | null;
  readonly maxRange: number | null;
  /** Live figures: only while a transaction runs on the connector (voltage/current also from pre-charge data). */
  readonly voltage: number | null;
  readonly current: number | null;
  readonly power: number | null;
  /** Energy of the connector's open transaction. */
  readonly energy: number | null;
  readonly temperature: number | null;
  readonly transactionId: number | null;
}

/**
 * Why the station-level figures are those of `connectorId`: asked for, the connector whose transaction started
 * last (charging ones first), the one whose status changed last, or connector 1 / the only one.
 */
export type ConnectorReason = 'requested' | 'transaction' | 'status' | 'default';

/** The station view: one connector's figures at the top level (single-gun clients), every connector in `connectors`. */
export interface StationSummary extends ConnectorSummary {
  readonly chargeBoxId: string;
  readonly connectorReason: ConnectorReason;
  readonly online: boolean;
  /** Every connector above 0, in id order. */
  readonly connectors: readonly ConnectorSummary[];
  readonly seq: number;
}

export type Tx = Mutable<TransactionRecord>;
export type Vehicle = Omit<Mutable<VehicleState>, 'ageMs'>;

/** The state kept per station; only station-state.ts changes it. */
export interface Station {
  seq: number;
  link: 'connected' | 'disconnected' | undefined;
  lastSeen: string | undefined;
  linkKind: LinkKind | undefined;
  upstream: 'steve' | 'local' | undefined;
  boot: EventDataMap['bootNotification'] | undefined;
  connectors: Map<number, ConnectorState>;
  meter: Map<number, Map<string, MeterSample>>;
  txs: Tx[];
  vehicles: Map<number, Vehicle>;
}
