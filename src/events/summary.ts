// What the flashCharge SOC screen shows, per connector and for the station. Figures are what is true now: live
// voltage, current and power only from the samples of the transaction running on that connector, and only while
// it is charging; after the session they stay with the transaction (TransactionRecord.finalValues), not here.
import { KEY, numeric, watts } from './meter-read.js';
import type { ConnectorReason, ConnectorSummary, MeterSample, Station, StationSummary, Tx } from './state-types.js';
import { currentOn, startedAfter } from './transactions.js';

/** Statuses in which a connector delivers nothing, whatever its transaction says. */
const NOT_CHARGING: ReadonlySet<string> = new Set(['Available', 'Finishing', 'Unavailable', 'Faulted']);

/** Every connector above 0 the station has told us about (status, meter values, transactions, vehicle). */
export function connectorIds(st: Station): number[] {
  const ids = new Set<number>();
  for (const id of st.connectors.keys()) ids.add(id);
  for (const id of st.meter.keys()) ids.add(id);
  for (const id of st.vehicles.keys()) ids.add(id);
  for (const t of st.txs) if (t.connectorId !== undefined) ids.add(t.connectorId);
  ids.delete(0);
  return [...ids].sort((a, b) => a - b);
}

/** A transaction is live while it is open and no later status says the connector stopped delivering. */
export function isLive(st: Station, tx: Tx | undefined): tx is Tx {
  if (!tx?.open || tx.connectorId === undefined) return false;
  const status = st.connectors.get(tx.connectorId);
  return !(status && NOT_CHARGING.has(status.status) && Date.parse(status.timestamp) > Date.parse(tx.startTime));
}

/** A kept sample, if it belongs to `tx` (by id, or by time when the sample has none) and is not its final one. */
export function sampleOf(tx: Tx, s: MeterSample | undefined): MeterSample | undefined {
  if (!s || s.context === 'Transaction.End') return undefined;
  if (s.transactionId !== undefined) return s.transactionId === tx.transactionId ? s : undefined;
  return Date.parse(s.timestamp) >= Date.parse(tx.startTime) ? s : undefined;
}

export function connectorSummary(st: Station, connectorId: number): ConnectorSummary {
  const tx = currentOn(st, connectorId);
  const live = isLive(st, tx);
  const samples = st.meter.get(connectorId);
  const own = (key: string): MeterSample | undefined => (live ? sampleOf(tx, samples?.get(key)) : undefined);
  const v = st.vehicles.get(connectorId);
  // Pre-charge data describes the vehicle now; figures the meter fed into the vehicle end with the session.
  const vehicleNow = live || v?.source === 'preChargeData';
  const newer = (s: MeterSample | undefined, fromVehicle: number | undefined): number | undefined => {
    const vehicleValue = vehicleNow ? fromVehicle : undefined;
    const m = numeric(s);
    if (m === undefined) return vehicleValue;
    if (vehicleValue === undefined || !v) return m;
    return Date.parse(s!.timestamp) >= Date.parse(v.updatedAt) ? m : vehicleValue;
  };
  const voltage = newer(own(KEY.voltage), v?.voltage);
  const current = newer(own(KEY.current), v?.current);
  const power = live ? (watts(own(KEY.power)) ?? (voltage !== undefined && current !== undefined ? voltage * current : undefined)) : undefined;
  return {
    connectorId,
    status: st.connectors.get(connectorId)?.status ?? null,
    soc: v?.soc ?? null,
    model: v?.model ?? null,
    range: v?.range ?? null,
    maxRange: v?.maxRange ?? null,
    voltage: voltage ?? null,
    current: current ?? null,
    power: power ?? null,
    energy: tx?.energyWh ?? null,
    temperature: newer(own(KEY.temperature), v?.temperature) ?? null,
    transactionId: tx?.transactionId ?? null,
  };
}

/**
 * The connector a single-gun view shows: the one whose transaction started last (charging ones first), else the
 * one whose status changed last, else the only (or first) one.
 */
export function chooseConnector(st: Station, ids: readonly number[]): { connectorId: number; reason: ConnectorReason } {
  let best: { id: number; tx: Tx; live: boolean } | undefined;
  for (const id of ids) {
    const tx = currentOn(st, id);
    if (!tx) continue;
    const live = isLive(st, tx);
    if (!best || (live && !best.live) || (live === best.live && startedAfter(tx, best.tx))) best = { id, tx, live };
  }
  if (best) return { connectorId: best.id, reason: 'transaction' };
  let latest: { id: number; at: number } | undefined;
  for (const c of st.connectors.values()) {
    const at = Date.parse(c.timestamp);
    if (c.connectorId > 0 && (!latest || at > latest.at)) latest = { id: c.connectorId, at };
  }
  if (latest) return { connectorId: latest.id, reason: 'status' };
  return { connectorId: ids[0] ?? 1, reason: 'default' };
}

export function stationSummary(st: Station, chargeBoxId: string, online: boolean, requested?: number): StationSummary {
  const ids = connectorIds(st);
  const connectors = (ids.length > 0 ? ids : [1]).map((id) => connectorSummary(st, id));
  const chosen = requested !== undefined ? { connectorId: requested, reason: 'requested' as const } : chooseConnector(st, ids);
  const shown = connectors.find((c) => c.connectorId === chosen.connectorId) ?? connectorSummary(st, chosen.connectorId);
  return { chargeBoxId, ...shown, connectorReason: chosen.reason, online, connectors, seq: st.seq };
}
