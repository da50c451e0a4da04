// The one event catalogue, shared by every producer (relay wire observer, binlog reader, links) and the push side.
// Imports nothing else from the gateway.

export type LinkKind = 'ws' | 'serial' | 'sim';
export type EventSource = 'station' | 'steve';

export type ChargePointStatus =
  | 'Available' | 'Preparing' | 'Charging' | 'SuspendedEVSE' | 'SuspendedEV'
  | 'Finishing' | 'Reserved' | 'Unavailable' | 'Faulted';

export interface SampledValue {
  readonly value: string;
  readonly measurand: string; // OCPP default "Energy.Active.Import.Register" filled in
  readonly unit?: string;
  readonly context?: string;
  readonly format?: string;
  readonly location?: string;
  readonly phase?: string;
}

/** Vehicle figures from PreChargeData / VehicleInfo (all optional: the firmware sends what it knows). */
export interface VehicleData {
  readonly soc?: number;
  readonly maxCurrent?: number;
  readonly voltage?: number;
  readonly current?: number;
  readonly temperature?: number;
  readonly model?: string;
  /** Battery capacity in Ah, from the model or derived from maxCurrent. */
  readonly batteryAh?: number;
  readonly range?: number;
  readonly maxRange?: number;
}

export interface EventDataMap {
  stationConnected: { readonly linkKind: LinkKind; readonly remoteAddress?: string; readonly upstream: 'steve' | 'local' };
  stationDisconnected: { readonly linkKind: LinkKind; readonly code: number; readonly reason: string };
  bootNotification: {
    readonly chargePointVendor?: string;
    readonly chargePointModel?: string;
    readonly chargePointSerialNumber?: string;
    readonly chargeBoxSerialNumber?: string;
    readonly firmwareVersion?: string;
    readonly iccid?: string;
    readonly imsi?: string;
    readonly meterType?: string;
    readonly meterSerialNumber?: string;
    /** The central system's answer when seen on the wire. */
    readonly registrationStatus?: string;
  };
  heartbeat: Readonly<Record<string, never>>;
  status: {
    readonly status: ChargePointStatus | string;
    readonly errorCode: string;
    readonly info?: string;
    readonly vendorId?: string;
    readonly vendorErrorCode?: string;
    /** SteVe's own Charging/Available row written after Start/StopTransaction, not a StatusNotification. */
    readonly synthetic: boolean;
  };
  meterValues: { readonly sampledValues: readonly SampledValue[] };
  preChargeData: VehicleData & { readonly messageId: string; readonly vendorId: string };
  transactionStarted: { readonly idTag: string; readonly meterStart: number; readonly startTime: string; readonly reservationId?: number };
  transactionStopped: {
    readonly meterStop: number;
    readonly stopTime: string;
    readonly reason?: string;
    readonly actor: 'station' | 'manual';
    readonly idTag?: string;
    /** meterStop − meterStart in Wh, when the start is known. */
    readonly energyWh?: number;
  };
  transactionStopFailed: { readonly reason: string; readonly meterStop?: number; readonly stopTime?: string; readonly stopReason?: string };
  sessionSummary: { readonly finalSoc?: number; readonly energyDelivered?: number; readonly durationMinutes?: number };
  /** raw: the vendor object; its JSON text cut short when longer than EVENTS_DATA_MAX_BYTES (rawBytes: full size). */
  bmsAlert: { readonly alert?: string; readonly permission?: boolean; readonly raw: unknown; readonly rawBytes?: number };
  /**
   * A vendor DataTransfer described by a file in vendor-messages/ that maps to no dedicated type: its values as the
   * file's field rules read them (docs/events.md "Vendor messages"). Value names come from the file, never the wire.
   */
  vendorEvent: { readonly vendorId: string; readonly messageId: string; readonly values: Readonly<Record<string, unknown>> };
  /** data: as sent; cut short when longer than EVENTS_DATA_MAX_BYTES (dataBytes: its full size, -1 when too deep). */
  dataTransfer: { readonly vendorId: string; readonly messageId?: string; readonly data?: unknown; readonly dataBytes?: number };
  firmwareStatus: { readonly status: string };
  diagnosticsStatus: { readonly status: string };
  /** One free-text debug line from a serial board's UART (firmware log), in arrival order. */
  deviceLog: { readonly line: string };
  /**
   * SteVe's current state for one station, read in a consistent snapshot (first start, or the saved binlog
   * position was purged). Replaces what a consumer knew; streaming continues from exactly that point.
   */
  resync: {
    readonly reason: 'no-checkpoint' | 'binlog-purged';
    readonly connectors: readonly { readonly connectorId: number; readonly status: string; readonly errorCode: string; readonly timestamp: string }[];
    readonly openTransactions: readonly {
      readonly transactionId: number;
      readonly connectorId: number;
      readonly idTag: string;
      readonly meterStart: number;
      readonly startTime: string;
    }[];
    readonly lastMeterValues: readonly {
      readonly connectorId: number;
      readonly transactionId?: number;
      readonly timestamp: string;
      readonly sampledValues: readonly SampledValue[];
    }[];
  };
  /** A rule a frame or row broke: schema violations, malformed vendor data, protocol trouble. */
  finding: {
    readonly rule: string;
    readonly field?: string;
    readonly message: string;
    readonly action?: string;
    readonly messageId?: string;
    /** Id of the message-log entry the finding belongs to. */
    readonly logId?: number;
    /** Rule `event.findings-capped`: how many findings of one second were not sent as events, in all and by rule. */
    readonly suppressed?: number;
    readonly rules?: Readonly<Record<string, number>>;
  };
}

export type EventType = keyof EventDataMap;

export const EVENT_TYPES = [
  'stationConnected', 'stationDisconnected', 'bootNotification', 'heartbeat', 'status', 'meterValues',
  'preChargeData', 'transactionStarted', 'transactionStopped', 'transactionStopFailed', 'sessionSummary',
  'bmsAlert', 'vendorEvent', 'dataTransfer', 'firmwareStatus', 'diagnosticsStatus', 'deviceLog', 'resync', 'finding',
] as const satisfies readonly EventType[];

/** What a producer hands to the bus; the sequencer adds `seq`. */
export type EventInput<T extends EventType = EventType> = {
  [K in T]: {
    /** Stable across repeats (same wire frame, same binlog row) so consumers can drop duplicates. */
    readonly id: string;
    readonly type: K;
    readonly chargeBoxId: string;
    readonly connectorId?: number;
    readonly transactionId?: number;
    /** Station time (ISO 8601) when the message carries one, else the receive time. */
    readonly timestamp: string;
    readonly receivedAt: string;
    readonly source: EventSource;
    readonly data: EventDataMap[K];
  };
}[T];

/** For code that builds one of these shapes field by field (cheaper per frame or row than conditional spreads). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A sequenced event as clients receive it: `seq` increases by one per station. */
export type GatewayEvent<T extends EventType = EventType> = EventInput<T> & { readonly seq: number };
