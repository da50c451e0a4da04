// Per-station state, built only from sequenced events (bus 'event'). The single owner of that state: REST and
// push read snapshots from here and never keep their own copies. Per connector: status, meter samples, the
// vehicle and the current transaction (transactions.ts); the SOC-screen figures are computed in summary.ts.
import type { Bus } from './bus.js';
import type { EventDataMap, GatewayEvent, VehicleData } from './catalogue.js';
import { KEY, numeric, sampleKey, wh } from './meter-read.js';
import type { MeterSample, SessionFigures, Station, StationSnapshot, StationSummary, TransactionRecord, Tx, Vehicle, VehicleSource } from './state-types.js';
import { chooseConnector, connectorIds, stationSummary } from './summary.js';
import { currentOn, reviveIfLatest, staleAll, staleOlderOn, startedAfter, trimClosed } from './transactions.js';
import type { KeptStatus, OpenTransaction, StateKeep } from './state-keep.js';
import { deriveVehicle } from './vehicle-model.js';

export type {
  ConnectorReason, ConnectorState, ConnectorSummary, MeterSample, SessionFigures, StationSnapshot, StationSummary, TransactionRecord, VehicleSource, VehicleState,
} from './state-types.js';

export interface StationLink {
  readonly seq: number;
  readonly online: boolean;
  readonly lastSeen: string | undefined;
  readonly linkKind: Station['linkKind'];
  readonly upstream: Station['upstream'];
}

export interface StationStateOptions {
  readonly kmPerAh: number;
  /** A station without a link event counts as online while it was seen this recently (binlog-only stations). */
  readonly onlineWindowMs?: number;
  /** Closed transactions kept per station. */
  readonly recentTransactions?: number;
}

const VEHICLE_FIELDS = ['soc', 'maxCurrent', 'voltage', 'current', 'temperature', 'model', 'batteryAh', 'range', 'maxRange'] as const;

/** Station time when it is readable, else the receive time (ms since epoch). */
function timeOf(e: GatewayEvent): number {
  const t = Date.parse(e.timestamp);
  return Number.isFinite(t) ? t : Date.parse(e.receivedAt);
}

/**
 * Bounds on what one station's wire input can make the state hold: connector ids and sample kinds come from the
 * wire, and a real charger has a few of each. Beyond them new ones are ignored; known ones keep updating.
 */
const MAX_CONNECTORS = 64;
const MAX_SAMPLE_KINDS = 64;

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
        staleAll(st); // a reboot ends whatever ran before it
        break;
      case 'status':
        this.#status(st, e as GatewayEvent<'status'>);
        break;
      case 'meterValues':
        this.#meterValues(st, e as GatewayEvent<'meterValues'>);
        break;
      case 'preChargeData':
        this.#vehicle(st, this.#vehicleConnector(st), e.data, 'preChargeData', e.timestamp, true);
        break;
      case 'transactionStarted':
        this.#started(st, e as GatewayEvent<'transactionStarted'>);
        break;
      case 'transactionStopped':
        this.#stopped(st, e as GatewayEvent<'transactionStopped'>);
        break;
      case 'sessionSummary':
        this.#summaryMessage(st, e.data, timeOf(e));
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
    const vehicles = [...st.vehicles.entries()]
      .sort(([a], [b]) => a - b)
      .map(([connectorId, v]) => ({ ...v, connectorId, ageMs: Math.max(0, now - Date.parse(v.updatedAt)) }));
    const shown = chooseConnector(st, connectorIds(st)).connectorId;
    const vehicle = vehicles.find((v) => v.connectorId === shown);
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
      ...(vehicle ? { vehicle: withoutConnector(vehicle) } : {}),
      vehicles,
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

  /** What a restart must not forget (state-keep.ts): the open transactions and each connector's status. */
  keep(): StateKeep {
    const openTransactions: OpenTransaction[] = [];
    const connectors: KeptStatus[] = [];
    for (const [chargeBoxId, st] of this.#stations) keepInto(chargeBoxId, st, openTransactions, connectors);
    return { openTransactions, connectors };
  }

  /** What `keep()` holds of one station (the state file re-serialises only the stations that changed). */
  keepOf(chargeBoxId: string): StateKeep {
    const openTransactions: OpenTransaction[] = [];
    const connectors: KeptStatus[] = [];
    const st = this.#stations.get(chargeBoxId);
    if (st) keepInto(chargeBoxId, st, openTransactions, connectors);
    return { openTransactions, connectors };
  }

  /**
   * At start, before the history is replayed: what was kept when the gateway stopped. The replay then adds what
   * the retained events tell (later statuses and meter values, the stop, a reboot).
   */
  restore(keep: StateKeep): void {
    for (const { chargeBoxId, ...c } of keep.connectors) this.#station(chargeBoxId).connectors.set(c.connectorId, c);
    for (const { chargeBoxId, ...t } of keep.openTransactions) {
      const st = this.#station(chargeBoxId);
      if (t.transactionId !== undefined && st.txs.some((x) => x.transactionId === t.transactionId)) continue;
      st.txs.push({ ...t, open: true });
      if (t.connectorId !== undefined) staleOlderOn(st, t.connectorId);
    }
  }

  /**
   * The SOC-screen figures of every connector, and at the top level those of `connectorId` or, when not given,
   * of the connector the station view picks (the one charging, else the one whose status changed last).
   */
  summary(chargeBoxId: string, connectorId?: number, now = Date.now()): StationSummary | undefined {
    const st = this.#stations.get(chargeBoxId);
    if (!st) return undefined;
    return stationSummary(st, chargeBoxId, this.#online(st, now), connectorId);
  }

  /** The station's link in a few fields (the fleet feed builds one per changed station per tick: no copies). */
  link(chargeBoxId: string, now = Date.now()): StationLink | undefined {
    const st = this.#stations.get(chargeBoxId);
    if (!st) return undefined;
    return { seq: st.seq, online: this.#online(st, now), lastSeen: st.lastSeen, linkKind: st.linkKind, upstream: st.upstream };
  }

  #online(st: Station, now: number): boolean {
    if (st.link !== undefined) return st.link === 'connected';
    return st.lastSeen !== undefined && now - Date.parse(st.lastSeen) <= this.#opts.onlineWindowMs;
  }

  #station(id: string): Station {
    let st = this.#stations.get(id);
    if (!st) {
      st = { seq: 0, link: undefined, lastSeen: undefined, linkKind: undefined, upstream: undefined, boot: undefined, connectors: new Map(), meter: new Map(), txs: [], vehicles: new Map() };
      this.#stations.set(id, st);
    }
    return st;
  }

  #status(st: Station, e: GatewayEvent<'status'>): void {
    const connectorId = e.connectorId ?? 0;
    const prev = st.connectors.get(connectorId);
    if (!prev && st.connectors.size >= MAX_CONNECTORS) return;
    const at = timeOf(e);
    // An older report arriving late must not regress; one with the same time (SteVe 3.7 keeps whole seconds) is
    // newer by arrival.
    if (prev && Date.parse(prev.timestamp) > at) return;
    st.connectors.set(connectorId, {
      connectorId, status: e.data.status, errorCode: e.data.errorCode, timestamp: new Date(at).toISOString(), source: e.source, synthetic: e.data.synthetic,
      ...(e.data.info !== undefined ? { info: e.data.info } : {}),
    });
    // Unplugged with nothing running there: the vehicle we knew on that connector is gone.
    const v = st.vehicles.get(connectorId);
    if (connectorId > 0 && e.data.status === 'Available' && !currentOn(st, connectorId) && v && Date.parse(v.updatedAt) <= at) st.vehicles.delete(connectorId);
  }

  #meterValues(st: Station, e: GatewayEvent<'meterValues'>): void {
    const tx = this.#txFor(st, e.transactionId, e.connectorId);
    // Meter values without a connector (transactionData of a transaction started before a restart) take it
    // from their transaction.
    const connectorId = e.connectorId ?? tx?.connectorId ?? 0;
    let m = st.meter.get(connectorId);
    if (!m && st.meter.size >= MAX_CONNECTORS) return;
    if (!m) st.meter.set(connectorId, (m = new Map()));
    const at = timeOf(e);
    const timestamp = new Date(at).toISOString();
    const fromVehicle: { -readonly [K in keyof VehicleData]?: VehicleData[K] } = {};
    const figures: { -readonly [K in keyof SessionFigures]?: number } = {};
    let energy: number | undefined;
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
      if (key === KEY.energy) energy = wh(sample);
      else if (key === KEY.power) figures.power = sample.unit === 'kW' ? n * 1000 : n;
      if (sv.measurand === 'SoC') fromVehicle.soc = n;
      else if (sv.measurand === 'Voltage') fromVehicle.voltage = figures.voltage = n;
      else if (sv.measurand === 'Current.Import') fromVehicle.current = figures.current = n;
      else if (sv.measurand === 'Current.Offered') fromVehicle.maxCurrent = n;
      else if (sv.measurand === 'Temperature') fromVehicle.temperature = figures.temperature = n;
    }
    if (Object.keys(fromVehicle).length > 0) this.#vehicle(st, connectorId, fromVehicle, 'meterValues', timestamp, false);
    if (!tx) return;
    if (tx.stale) reviveIfLatest(st, tx);
    // A sample without a transaction id counts for the transaction only from its start on.
    if (e.transactionId === undefined && at < Date.parse(tx.startTime)) return;
    if (energy !== undefined) tx.energyWh = energy - tx.meterStart;
    if (Object.keys(figures).length > 0) tx.finalValues = { ...tx.finalValues, ...figures };
    if (fromVehicle.soc !== undefined) {
      tx.socStart ??= fromVehicle.soc;
      tx.socEnd = fromVehicle.soc;
      tx.socGained = round2(tx.socEnd - tx.socStart);
    }
  }

  /**
   * One vehicle per connector, fed by PreChargeData and by meter values: fields present overwrite, capacity and
   * ranges are re-derived from the merged model / max current / SOC. Older updates than what we have are ignored.
   */
  #vehicle(st: Station, connectorId: number, data: VehicleData, source: VehicleSource, timestamp: string, replacesModel: boolean): void {
    const prev = st.vehicles.get(connectorId);
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
    st.vehicles.set(connectorId, next);
  }

  /**
   * PreChargeData / VehicleInfo name no connector: the only one, else the one being prepared most recently,
   * else the one whose transaction started last, else the one whose status changed last.
   */
  #vehicleConnector(st: Station): number {
    const ids = connectorIds(st);
    if (ids.length <= 1) return ids[0] ?? 1;
    let preparing: { id: number; at: number } | undefined;
    for (const c of st.connectors.values()) {
      const at = Date.parse(c.timestamp);
      if (c.connectorId > 0 && c.status === 'Preparing' && (!preparing || at >= preparing.at)) preparing = { id: c.connectorId, at };
    }
    return preparing?.id ?? chooseConnector(st, ids).connectorId;
  }

  /** By id when the event has one; else the connector's current transaction (any connector's when unknown). */
  #txFor(st: Station, transactionId: number | undefined, connectorId: number | undefined): Tx | undefined {
    if (transactionId !== undefined) return st.txs.find((t) => t.transactionId === transactionId);
    if (connectorId !== undefined) return currentOn(st, connectorId);
    let best: Tx | undefined;
    for (const t of st.txs) if (t.open && (!best || startedAfter(t, best))) best = t;
    return best;
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
    const v = st.vehicles.get(tx.connectorId ?? 1);
    if (tx.socStart === undefined && v?.soc !== undefined && Math.abs(Date.parse(e.data.startTime) - Date.parse(v.socAt ?? v.updatedAt)) < 10 * 60_000) tx.socStart = v.soc;
    // One transaction runs per connector: the latest started; an older one still open is stale.
    if (tx.connectorId !== undefined) staleOlderOn(st, tx.connectorId);
    trimClosed(st, this.#opts.recentTransactions);
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
    delete tx.stale;
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
    trimClosed(st, this.#opts.recentTransactions);
  }

  /**
   * The firmware's SessionSummary belongs to the transaction that just ended (stopped in the last 10 minutes),
   * else to the one running.
   */
  #summaryMessage(st: Station, d: EventDataMap['sessionSummary'], at: number): void {
    const stopped = st.txs.filter((t) => !t.open && t.stopTime !== undefined).at(-1);
    const justStopped = stopped && Math.abs(at - Date.parse(stopped.stopTime!)) <= 10 * 60_000 ? stopped : undefined;
    const tx = justStopped ?? this.#txFor(st, undefined, undefined) ?? stopped;
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
    // SteVe's open transactions are the truth; ours that SteVe no longer has open ended without our seeing it.
    const open = new Set(e.data.openTransactions.map((t) => t.transactionId));
    for (const t of st.txs) {
      if (t.open && (t.transactionId === undefined || !open.has(t.transactionId))) {
        t.open = false;
        t.stale = true;
      }
    }
    for (const t of e.data.openTransactions) {
      const known = st.txs.find((x) => x.transactionId === t.transactionId);
      if (known) {
        known.open = true;
        delete known.stale;
      } else st.txs.push({ transactionId: t.transactionId, connectorId: t.connectorId, idTag: t.idTag, startTime: t.startTime, meterStart: t.meterStart, open: true, source: e.source });
    }
    for (const id of new Set(e.data.openTransactions.map((t) => t.connectorId))) staleOlderOn(st, id);
    st.meter.clear();
    for (const mv of e.data.lastMeterValues) {
      this.#meterValues(st, { ...e, type: 'meterValues', connectorId: mv.connectorId, timestamp: mv.timestamp, ...(mv.transactionId !== undefined ? { transactionId: mv.transactionId } : {}), data: { sampledValues: mv.sampledValues } } as GatewayEvent<'meterValues'>);
    }
    trimClosed(st, this.#opts.recentTransactions);
  }
}

/** The snapshot's single `vehicle` keeps its old shape. */
function withoutConnector<T extends { connectorId: number }>(v: T): Omit<T, 'connectorId'> {
  const { connectorId: _connectorId, ...rest } = v;
  return rest;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

function keepInto(chargeBoxId: string, st: Station, openTransactions: OpenTransaction[], connectors: KeptStatus[]): void {
  for (const t of st.txs) if (t.open) openTransactions.push({ chargeBoxId, ...t });
  for (const c of st.connectors.values()) connectors.push({ chargeBoxId, ...c });
}
