// Per-station state, built only from sequenced events (bus 'event'). The single owner of that state: REST and
// push read snapshots from here and never keep their own copies.
import type { Bus } from './bus.js';
import type { EventDataMap, EventSource, GatewayEvent, LinkKind, Mutable, SampledValue, VehicleData } from './catalogue.js';
import { deriveVehicle } from './vehicle.js';

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

export interface TransactionRecord {
  readonly transactionId?: number;
  readonly connectorId?: number;
  readonly idTag: string;
  readonly startTime: string;
  readonly meterStart: number;
  readonly open: boolean;
  readonly stopTime?: string;
  readonly meterStop?: number;
  readonly stopReason?: string;
  readonly stopActor?: 'station' | 'manual';
  /** Wh so far (open, from the energy register) or in total (stopped). */
  readonly energyWh?: number;
  readonly socStart?: number;
  readonly socEnd?: number;
  readonly socGained?: number;
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
  readonly vehicle?: VehicleState;
}

/** What the flashCharge SOC screen shows. Units: %, km, V, A, W, Wh, °C; null when unknown. */
export interface StationSummary {
  readonly chargeBoxId: string;
  readonly connectorId: number;
  readonly status: string | null;
  readonly online: boolean;
  readonly soc: number | null;
  readonly model: string | null;
  readonly range: number | null;
  readonly maxRange: number | null;
  readonly voltage: number | null;
  readonly current: number | null;
  readonly power: number | null;
  readonly energy: number | null;
  readonly temperature: number | null;
  readonly transactionId: number | null;
  readonly seq: number;
}

export interface StationStateOptions {
  readonly kmPerAh: number;
  /** A station without a link event counts as online while it was seen this recently (binlog-only stations). */
  readonly onlineWindowMs?: number;
  /** Closed transactions kept per station. */
  readonly recentTransactions?: number;
}

type Tx = Mutable<TransactionRecord>;
type Vehicle = Omit<Mutable<VehicleState>, 'ageMs'>;

interface Station {
  seq: number;
  link: 'connected' | 'disconnected' | undefined;
  lastSeen: string | undefined;
  linkKind: LinkKind | undefined;
  upstream: 'steve' | 'local' | undefined;
  boot: EventDataMap['bootNotification'] | undefined;
  connectors: Map<number, ConnectorState>;
  meter: Map<number, Map<string, MeterSample>>;
  txs: Tx[];
  vehicle: Vehicle | undefined;
}

const VEHICLE_FIELDS = ['soc', 'maxCurrent', 'voltage', 'current', 'temperature', 'model', 'batteryAh', 'range', 'maxRange'] as const;

/** Station time when it is readable, else the receive time (ms since epoch). */
function timeOf(e: GatewayEvent): number {
  const t = Date.parse(e.timestamp);
  return Number.isFinite(t) ? t : Date.parse(e.receivedAt);
}

function numeric(s: MeterSample | undefined): number | undefined {
  if (!s) return undefined;
  const n = Number(s.value);
  return s.value.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/** Energy register in Wh whatever the unit. */
function wh(s: MeterSample | undefined): number | undefined {
  const n = numeric(s);
  return n === undefined ? undefined : s?.unit === 'kWh' ? n * 1000 : n;
}

function watts(s: MeterSample | undefined): number | undefined {
  const n = numeric(s);
  return n === undefined ? undefined : s?.unit === 'kW' ? n * 1000 : n;
}

/**
 * Bounds on what one station's wire input can make the state hold: connector ids and sample kinds come from the
 * wire, and a real charger has a few of each. Beyond them new ones are ignored; known ones keep updating.
 */
const MAX_CONNECTORS = 64;
const MAX_SAMPLE_KINDS = 64;
const MAX_OPEN_TRANSACTIONS = 64;

function sampleKey(sv: SampledValue): string {
  return `${sv.measurand}|${sv.phase ?? ''}|${sv.location ?? ''}`;
}

export type StateListener = (chargeBoxId: string, event: GatewayEvent) => void;

export class StationStateStore {
  readonly #stations = new Map<string, Station>();
  readonly #listeners = new Set<StateListener>();
  readonly #opts: Required<StationStateOptions>;
  #off: (() => void) | undefined;

  constructor(opts: StationStateOptions) {
    this.#opts = { onlineWindowMs: 150_000, recentTransactions: 20, ...opts };
  }

  /** Follows bus 'event'. */
  attach(bus: Bus): void {
    this.#off ??= bus.on('event', (e) => this.apply(e));
  }

  detach(): void {
    this.#off?.();
    this.#off = undefined;
  }

  /** Called after each applied event, once the state reflects it (push reads summaries from here). */
  onChange(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  ids(): string[] {
    return [...this.#stations.keys()];
  }

  has(chargeBoxId: string): boolean {
    return this.#stations.has(chargeBoxId);
  }

  apply(e: GatewayEvent): void {
    const st = this.#station(e.chargeBoxId);
    if (e.seq <= st.seq) return; // replayed at start or delivered twice
    st.seq = e.seq;
    if (e.type !== 'resync' && e.type !== 'stationDisconnected' && (st.lastSeen === undefined || e.receivedAt > st.lastSeen)) st.lastSeen = e.receivedAt;
    switch (e.type) {
      case 'stationConnected':
        st.link = 'connected';
        st.linkKind = e.data.linkKind;
        st.upstream = e.data.upstream;
        break;
      case 'stationDisconnected':
        st.link = 'disconnected';
        st.linkKind = e.data.linkKind;
        break;
      case 'bootNotification':
        st.boot = e.data;
        break;
      case 'status':
        this.#status(st, e as GatewayEvent<'status'>);
        break;
      case 'meterValues':
        this.#meterValues(st, e as GatewayEvent<'meterValues'>);
        break;
      case 'preChargeData':
        this.#vehicle(st, e.data, 'preChargeData', e.timestamp, true);
        break;
      case 'transactionStarted':
        this.#started(st, e as GatewayEvent<'transactionStarted'>);
        break;
      case 'transactionStopped':
        this.#stopped(st, e as GatewayEvent<'transactionStopped'>);
        break;
      case 'sessionSummary':
        this.#summaryMessage(st, e.data);
        break;
      case 'resync':
        this.#resync(st, e as GatewayEvent<'resync'>);
        break;
      default:
        break;
    }
    for (const l of this.#listeners) l(e.chargeBoxId, e);
  }

  snapshot(chargeBoxId: string, now = Date.now()): StationSnapshot | undefined {
    const st = this.#stations.get(chargeBoxId);
    if (!st) return undefined;
    const txs = st.txs.map((t) => ({ ...t }));
    return {
      chargeBoxId,
      seq: st.seq,
      online: this.#online(st, now),
      ...(st.lastSeen !== undefined ? { lastSeen: st.lastSeen } : {}),
      ...(st.linkKind !== undefined ? { linkKind: st.linkKind } : {}),
      ...(st.upstream !== undefined ? { upstream: st.upstream } : {}),
      ...(st.boot !== undefined ? { boot: st.boot } : {}),
      connectors: [...st.connectors.values()].sort((a, b) => a.connectorId - b.connectorId),
      openTransactions: txs.filter((t) => t.open),
      recentTransactions: txs.filter((t) => !t.open),
      meter: [...st.meter.entries()].sort(([a], [b]) => a - b).map(([connectorId, m]) => ({ connectorId, samples: [...m.values()] })),
      ...(st.vehicle ? { vehicle: { ...st.vehicle, ageMs: Math.max(0, now - Date.parse(st.vehicle.updatedAt)) } } : {}),
    };
  }

  /** Open and recent transactions, newest start first; `since` (ISO) keeps those started or stopped since then. */
  transactions(q: { chargeBoxId?: string; since?: string } = {}): (TransactionRecord & { chargeBoxId: string })[] {
    const since = q.since !== undefined ? Date.parse(q.since) : undefined;
    const out: (TransactionRecord & { chargeBoxId: string })[] = [];
    for (const [id, st] of this.#stations) {
      if (q.chargeBoxId !== undefined && id !== q.chargeBoxId) continue;
      for (const t of st.txs) {
        if (since !== undefined && !(t.open || Date.parse(t.startTime) >= since || (t.stopTime !== undefined && Date.parse(t.stopTime) >= since))) continue;
        out.push({ chargeBoxId: id, ...t });
      }
    }
    return out.sort((a, b) => (a.startTime < b.startTime ? 1 : a.startTime > b.startTime ? -1 : 0));
  }

  summary(chargeBoxId: string, now = Date.now()): StationSummary | undefined {
    const st = this.#stations.get(chargeBoxId);
    if (!st) return undefined;
    const open = st.txs.find((t) => t.open);
    const connectorId = open?.connectorId ?? this.#busiestConnector(st);
    const samples = st.meter.get(connectorId);
    const v = st.vehicle;
    // While charging the meter is fresher than the pre-charge snapshot; before it, the vehicle is all we have.
    const newer = (s: MeterSample | undefined, fromVehicle: number | undefined): number | undefined => {
      const m = numeric(s);
      if (m === undefined) return fromVehicle;
      if (fromVehicle === undefined || !v) return m;
      return Date.parse(s!.timestamp) >= Date.parse(v.updatedAt) ? m : fromVehicle;
    };
    const voltage = newer(samples?.get('Voltage||'), v?.voltage);
    const current = newer(samples?.get('Current.Import||'), v?.current);
    const power = watts(samples?.get('Power.Active.Import||')) ?? (voltage !== undefined && current !== undefined && open ? voltage * current : undefined);
    const last = open ?? st.txs.filter((t) => !t.open).at(-1);
    return {
      chargeBoxId,
      connectorId,
      status: st.connectors.get(connectorId)?.status ?? null,
      online: this.#online(st, now),
      soc: v?.soc ?? null,
      model: v?.model ?? null,
      range: v?.range ?? null,
      maxRange: v?.maxRange ?? null,
      voltage: voltage ?? null,
      current: current ?? null,
      power: power ?? null,
      energy: last?.energyWh ?? null,
      temperature: newer(samples?.get('Temperature||'), v?.temperature) ?? null,
      transactionId: open?.transactionId ?? null,
      seq: st.seq,
    };
  }

  #online(st: Station, now: number): boolean {
    if (st.link !== undefined) return st.link === 'connected';
    return st.lastSeen !== undefined && now - Date.parse(st.lastSeen) <= this.#opts.onlineWindowMs;
  }

  /** The connector a single-gun UI cares about: the most recently changed one above 0, else 1. */
  #busiestConnector(st: Station): number {
    let best: ConnectorState | undefined;
    for (const c of st.connectors.values()) if (c.connectorId > 0 && (!best || c.timestamp > best.timestamp)) best = c;
    return best?.connectorId ?? 1;
  }

  #station(id: string): Station {
    let st = this.#stations.get(id);
    if (!st) {
      st = { seq: 0, link: undefined, lastSeen: undefined, linkKind: undefined, upstream: undefined, boot: undefined, connectors: new Map(), meter: new Map(), txs: [], vehicle: undefined };
      this.#stations.set(id, st);
    }
    return st;
  }

  #status(st: Station, e: GatewayEvent<'status'>): void {
    const connectorId = e.connectorId ?? 0;
    const prev = st.connectors.get(connectorId);
    if (!prev && st.connectors.size >= MAX_CONNECTORS) return;
    const at = timeOf(e);
    if (prev && Date.parse(prev.timestamp) > at) return; // an older report arriving late must not regress
    st.connectors.set(connectorId, {
      connectorId, status: e.data.status, errorCode: e.data.errorCode, timestamp: new Date(at).toISOString(), source: e.source, synthetic: e.data.synthetic,
      ...(e.data.info !== undefined ? { info: e.data.info } : {}),
    });
    // Unplugged with nothing running: the vehicle we knew is gone.
    if (connectorId > 0 && e.data.status === 'Available' && !st.txs.some((t) => t.open) && st.vehicle && Date.parse(st.vehicle.updatedAt) <= at) st.vehicle = undefined;
  }

  #meterValues(st: Station, e: GatewayEvent<'meterValues'>): void {
    const connectorId = e.connectorId ?? 0;
    let m = st.meter.get(connectorId);
    if (!m && st.meter.size >= MAX_CONNECTORS) return;
    if (!m) st.meter.set(connectorId, (m = new Map()));
    const at = timeOf(e);
    const timestamp = new Date(at).toISOString();
    const fromVehicle: { -readonly [K in keyof VehicleData]?: VehicleData[K] } = {};
    for (const sv of e.data.sampledValues) {
      const key = sampleKey(sv);
      const prev = m.get(key);
      if (!prev && m.size >= MAX_SAMPLE_KINDS) continue;
      if (prev && Date.parse(prev.timestamp) > at) continue;
      const sample: MeterSample = {
        measurand: sv.measurand, value: sv.value, timestamp, source: e.source,
        ...(sv.unit !== undefined ? { unit: sv.unit } : {}),
        ...(sv.phase !== undefined ? { phase: sv.phase } : {}),
        ...(sv.location !== undefined ? { location: sv.location } : {}),
        ...(sv.context !== undefined ? { context: sv.context } : {}),
        ...(e.transactionId !== undefined ? { transactionId: e.transactionId } : {}),
      };
      m.set(key, sample);
      if (sv.phase !== undefined) continue;
      const n = numeric(sample);
      if (n === undefined) continue;
      if (sv.measurand === 'SoC') fromVehicle.soc = n;
      else if (sv.measurand === 'Voltage') fromVehicle.voltage = n;
      else if (sv.measurand === 'Current.Import') fromVehicle.current = n;
      else if (sv.measurand === 'Current.Offered') fromVehicle.maxCurrent = n;
      else if (sv.measurand === 'Temperature') fromVehicle.temperature = n;
    }
    if (Object.keys(fromVehicle).length > 0) this.#vehicle(st, fromVehicle, 'meterValues', timestamp, false);
    const tx = this.#txFor(st, e.transactionId, connectorId);
    if (!tx) return;
    const energy = wh(m.get('Energy.Active.Import.Register||'));
    if (energy !== undefined && Date.parse(m.get('Energy.Active.Import.Register||')!.timestamp) >= Date.parse(tx.startTime)) tx.energyWh = energy - tx.meterStart;
    if (fromVehicle.soc !== undefined) {
      tx.socStart ??= fromVehicle.soc;
      tx.socEnd = fromVehicle.soc;
      tx.socGained = round2(tx.socEnd - tx.socStart);
    }
  }

  /**
   * One vehicle, fed by PreChargeData and by meter values: fields present overwrite, capacity and ranges are
   * re-derived from the merged model / max current / SOC. Older updates than what we have are ignored.
   */
  #vehicle(st: Station, data: VehicleData, source: VehicleSource, timestamp: string, replacesModel: boolean): void {
    const prev = st.vehicle;
    const at = Date.parse(timestamp);
    if (prev && Date.parse(prev.updatedAt) > at) return;
    const merged: { -readonly [K in keyof VehicleData]?: VehicleData[K] } = {};
    for (const k of VEHICLE_FIELDS) {
      const v = data[k] ?? (prev ? prev[k] : undefined);
      if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
    }
    // Capacity and ranges follow from model and SOC: stale ones must not survive a change of either.
    delete merged.batteryAh;
    delete merged.maxRange;
    if (data.range === undefined) delete merged.range;
    if (replacesModel && data.model === undefined && data.maxCurrent !== undefined) delete merged.model;
    const derived = deriveVehicle(merged, this.#opts.kmPerAh);
    const next: Vehicle = { ...derived, source, updatedAt: new Date(at).toISOString() };
    if (data.soc !== undefined) {
      next.socSource = source;
      next.socAt = next.updatedAt;
    } else if (prev?.socSource !== undefined) {
      next.socSource = prev.socSource;
      if (prev.socAt !== undefined) next.socAt = prev.socAt;
    }
    st.vehicle = next;
  }

  #txFor(st: Station, transactionId: number | undefined, connectorId: number | undefined): Tx | undefined {
    if (transactionId !== undefined) return st.txs.find((t) => t.transactionId === transactionId);
    return st.txs.find((t) => t.open && (connectorId === undefined || t.connectorId === connectorId));
  }

  #started(st: Station, e: GatewayEvent<'transactionStarted'>): void {
    let tx = e.transactionId !== undefined ? st.txs.find((t) => t.transactionId === e.transactionId) : undefined;
    if (!tx) {
      tx = { idTag: e.data.idTag, startTime: e.data.startTime, meterStart: e.data.meterStart, open: true, source: e.source };
      st.txs.push(tx);
    }
    if (e.transactionId !== undefined) tx.transactionId = e.transactionId;
    if (e.connectorId !== undefined) tx.connectorId = e.connectorId;
    // The SOC just before the start is the starting point, if it is recent.
    const v = st.vehicle;
    if (tx.socStart === undefined && v?.soc !== undefined && Math.abs(Date.parse(e.data.startTime) - Date.parse(v.socAt ?? v.updatedAt)) < 10 * 60_000) tx.socStart = v.soc;
    this.#trim(st);
  }

  #stopped(st: Station, e: GatewayEvent<'transactionStopped'>): void {
    let tx = this.#txFor(st, e.transactionId, e.connectorId);
    const startKnown = tx !== undefined;
    if (!tx) {
      // Start not seen (before our history began): record what the stop tells.
      tx = { idTag: e.data.idTag ?? '', startTime: e.data.stopTime, meterStart: e.data.meterStop - (e.data.energyWh ?? 0), open: false, source: e.source };
      if (e.transactionId !== undefined) tx.transactionId = e.transactionId;
      if (e.connectorId !== undefined) tx.connectorId = e.connectorId;
      st.txs.push(tx);
    }
    tx.open = false;
    tx.stopTime = e.data.stopTime;
    tx.meterStop = e.data.meterStop;
    tx.stopActor = e.data.actor;
    if (e.data.reason !== undefined) tx.stopReason = e.data.reason;
    if (e.data.idTag !== undefined && tx.idTag === '') tx.idTag = e.data.idTag;
    const energyWh = e.data.energyWh ?? (startKnown ? e.data.meterStop - tx.meterStart : undefined);
    if (energyWh !== undefined) tx.energyWh = energyWh;
    // Move it behind the other closed ones, so "recent" stays in stop order.
    st.txs.splice(st.txs.indexOf(tx), 1);
    st.txs.push(tx);
    this.#trim(st);
  }

  /** The firmware's SessionSummary belongs to the transaction that just ended (or is ending). */
  #summaryMessage(st: Station, d: EventDataMap['sessionSummary']): void {
    const tx = st.txs.find((t) => t.open) ?? st.txs.filter((t) => !t.open).at(-1);
    if (!tx) return;
    if (d.finalSoc !== undefined) {
      tx.socEnd = d.finalSoc;
      if (tx.socStart !== undefined) tx.socGained = round2(d.finalSoc - tx.socStart);
    }
    if (tx.energyWh === undefined && d.energyDelivered !== undefined) tx.energyWh = d.energyDelivered;
  }

  #resync(st: Station, e: GatewayEvent<'resync'>): void {
    st.connectors.clear();
    for (const c of e.data.connectors) {
      st.connectors.set(c.connectorId, { connectorId: c.connectorId, status: c.status, errorCode: c.errorCode, timestamp: c.timestamp, source: e.source, synthetic: false });
    }
    const open = new Set(e.data.openTransactions.map((t) => t.transactionId));
    for (const t of st.txs) if (t.open && (t.transactionId === undefined || !open.has(t.transactionId))) t.open = false;
    for (const t of e.data.openTransactions) {
      const known = st.txs.find((x) => x.transactionId === t.transactionId);
      if (known) known.open = true;
      else st.txs.push({ transactionId: t.transactionId, connectorId: t.connectorId, idTag: t.idTag, startTime: t.startTime, meterStart: t.meterStart, open: true, source: e.source });
    }
    st.meter.clear();
    for (const mv of e.data.lastMeterValues) {
      this.#meterValues(st, { ...e, type: 'meterValues', connectorId: mv.connectorId, timestamp: mv.timestamp, ...(mv.transactionId !== undefined ? { transactionId: mv.transactionId } : {}), data: { sampledValues: mv.sampledValues } } as GatewayEvent<'meterValues'>);
    }
    this.#trim(st);
  }

  #trim(st: Station): void {
    const closed = st.txs.filter((t) => !t.open);
    const open = st.txs.filter((t) => t.open);
    // Starts without stops (a station that never sends one) would otherwise pile up: the oldest open ones go.
    const excess = closed.length - this.#opts.recentTransactions;
    const openExcess = open.length - MAX_OPEN_TRANSACTIONS;
    if (excess <= 0 && openExcess <= 0) return;
    const drop = new Set([...closed.slice(0, Math.max(0, excess)), ...open.slice(0, Math.max(0, openExcess))]);
    st.txs = st.txs.filter((t) => !drop.has(t));
  }
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
