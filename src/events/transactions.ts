// Which transaction is current on a connector, and which ones can no longer be running. Each connector's
// current transaction is the latest started on it; an older one still open (its StopTransaction lost, a crash)
// is marked stale, as are all open ones when the station reboots. Pure functions over a station's list.
import type { Station, Tx } from './state-types.js';

/**
 * Whether `a` started after `b`. Station times first; equal times (SteVe 3.7 keeps whole seconds) fall back to
 * the transaction id, which SteVe and the embedded central system hand out in increasing order.
 */
export function startedAfter(a: Tx, b: Tx): boolean {
  const ta = Date.parse(a.startTime);
  const tb = Date.parse(b.startTime);
  if (ta !== tb && Number.isFinite(ta) && Number.isFinite(tb)) return ta > tb;
  return (a.transactionId ?? -1) > (b.transactionId ?? -1);
}

/** The latest started transaction on a connector, open or not. */
export function latestOn(st: Station, connectorId: number): Tx | undefined {
  let best: Tx | undefined;
  for (const t of st.txs) if (t.connectorId === connectorId && (!best || startedAfter(t, best))) best = t;
  return best;
}

/** The connector's current transaction: open and the latest started on it. */
export function currentOn(st: Station, connectorId: number): Tx | undefined {
  let best: Tx | undefined;
  for (const t of st.txs) if (t.open && t.connectorId === connectorId && (!best || startedAfter(t, best))) best = t;
  return best;
}

/** After a start on `connectorId`: every other open transaction there that started earlier is stale. */
export function staleOlderOn(st: Station, connectorId: number): void {
  const current = currentOn(st, connectorId);
  if (!current) return;
  for (const t of st.txs) if (t !== current && t.open && t.connectorId === connectorId) markStale(t);
}

/** The station rebooted (BootNotification): nothing that was open before can still be running. */
export function staleAll(st: Station): void {
  for (const t of st.txs) if (t.open) markStale(t);
}

/** A sample for a stale transaction that is still the latest on its connector: it runs after all. */
export function reviveIfLatest(st: Station, tx: Tx): void {
  if (!tx.stale || tx.connectorId === undefined || latestOn(st, tx.connectorId) !== tx) return;
  tx.open = true;
  delete tx.stale;
}

function markStale(t: Tx): void {
  t.open = false;
  t.stale = true;
}

/** Open transactions, then closed ones in stop order; the oldest closed beyond `keep` are dropped. */
/** Starts without stops (a station that never sends one) would otherwise pile up: beyond this the oldest open ones go. */
const MAX_OPEN_TRANSACTIONS = 64;

/** Keeps the newest `keep` closed transactions and at most MAX_OPEN_TRANSACTIONS open ones. */
export function trimClosed(st: Station, keep: number): void {
  const closed = st.txs.filter((t) => !t.open);
  const open = st.txs.filter((t) => t.open);
  const excess = closed.length - keep;
  const openExcess = open.length - MAX_OPEN_TRANSACTIONS;
  if (excess <= 0 && openExcess <= 0) return;
  const drop = new Set([...closed.slice(0, Math.max(0, excess)), ...open.slice(0, Math.max(0, openExcess))]);
  st.txs = st.txs.filter((t) => !drop.has(t));
}
