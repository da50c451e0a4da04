// @ts-check
// The rider screen's reads from the gateway's REST API (Bearer token, same origin): a station's transactions and
// the meterValues events of one transaction, paged by seq so a long session is read in full but never unbounded.
import { belongsTo } from './series.js';

const PAGE = 1000;
/** At most this many pages per session (the gateway keeps a bounded history per station anyway). */
const MAX_PAGES = 20;

/**
 * @typedef {{ transactionId?: number, connectorId?: number, idTag: string, startTime: string, stopTime?: string,
 *   open: boolean, stale?: true, energyWh?: number, socStart?: number, socEnd?: number, stopReason?: string,
 *   chargeBoxId: string }} Transaction
 */

/** @param {string} path @param {() => string | null | undefined} getToken */
async function getJson(path, getToken) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${getToken() ?? ''}` } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body?.error?.message ?? `${path.split('?')[0]} answered HTTP ${res.status}`);
  }
  return res.json();
}

/**
 * The station's transactions, newest start first.
 * @param {string} stationId @param {() => string | null | undefined} getToken
 * @returns {Promise<Transaction[]>}
 */
export async function fetchTransactions(stationId, getToken) {
  const body = await getJson(`api/transactions?chargeBoxId=${encodeURIComponent(stationId)}`, getToken);
  /** @type {Transaction[]} */
  const list = Array.isArray(body.transactions) ? body.transactions : [];
  return list.sort((a, b) => Date.parse(b.startTime) - Date.parse(a.startTime) || (b.transactionId ?? 0) - (a.transactionId ?? 0));
}

/**
 * The meterValues events of one transaction: from its transactionStarted event's seq (all of the station's
 * history when that event is no longer kept) up to its transactionStopped.
 * @param {string} stationId @param {Transaction} tx @param {() => string | null | undefined} getToken
 * @returns {Promise<import('./series.js').MeterEvent[]>}
 */
export async function fetchSessionEvents(stationId, tx, getToken) {
  const base = `api/events?chargeBoxId=${encodeURIComponent(stationId)}&limit=${PAGE}`;
  const starts = await getJson(`${base}&type=transactionStarted`, getToken);
  const start = (starts.events ?? []).find((/** @type {{transactionId?: number}} */ e) => e.transactionId !== undefined && e.transactionId === tx.transactionId);
  let since = start ? start.seq : 0;
  /** @type {import('./series.js').MeterEvent[]} */
  const out = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await getJson(`${base}&type=meterValues,transactionStopped&since=${since}`, getToken);
    const events = body.events ?? [];
    for (const e of events) {
      if (e.type === 'meterValues' && belongsTo(e, tx)) out.push(e);
    }
    const stopped = events.some((/** @type {{type: string, transactionId?: number}} */ e) => e.type === 'transactionStopped' && e.transactionId === tx.transactionId);
    if (stopped || events.length < PAGE) break;
    since = events[events.length - 1].seq;
  }
  return out;
}
