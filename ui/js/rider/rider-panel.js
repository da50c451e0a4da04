// @ts-check
// The rider's view of one connector: time to the target SOC (from the taper), elapsed time, energy and cost of
// the running charge, the session's SOC and power curves, the end-of-charge summary once it stops, and the past
// sessions, each with its curve on demand. History comes from the REST API when a session is first shown, then
// live meterValues events extend it.
import { byId, h, setText } from '../dom.js';
import { NONE, clock, duration } from '../format.js';
import { POWER_CHART, SOC_CHART, createLineChart } from './charts.js';
import { fetchSessionEvents, fetchTransactions } from './history-api.js';
import { belongsTo, createSeries } from './series.js';
import { TARGETS, createRiderSettings } from './settings.js';
import { TYPICAL_RESISTANCE_OHM, capacityOf, estimateTimeToTarget } from './taper.js';

/** Sessions whose curves are kept in memory (the shown one, the last one, past ones opened). */
const MAX_SESSIONS = 20;

/**
 * @typedef {import('./history-api.js').Transaction} Transaction
 * @typedef {{ transactionId?: number, connectorId?: number, startTime: string, stopTime?: string, idTag?: string }} TxLike
 * @typedef {{ key: string, stationId: string, tx: TxLike, series: ReturnType<typeof createSeries>, loaded: boolean, error?: string }} Session
 * @typedef {{ connectorId?: number, status?: string | null, soc?: number | null, model?: string | null, maxRange?: number | null,
 *   current?: number | null, voltage?: number | null, energy?: number | null, transactionId?: number | null }} Shown
 * @typedef {{ item: HTMLElement, summary: HTMLElement, tx: TxLike, draw: () => void }} SessionRow
 */

/** @param {string} stationId @param {TxLike} tx */
const keyOf = (stationId, tx) => `${stationId}\u0000${tx.transactionId ?? `start:${tx.startTime}`}`;

/** @param {number | null | undefined} wh */
function kwh(wh) {
  return typeof wh === 'number' && Number.isFinite(wh) ? `${(wh / 1000).toFixed(2)} kWh` : NONE;
}

/** @param {number | null | undefined} v */
function pct(v) {
  return typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(v % 1 === 0 ? 0 : 1)} %` : NONE;
}

/** @param {{ getToken: () => string | null | undefined, onError?: (message: string) => void }} deps */
export function createRiderPanel({ getToken, onError }) {
  const settings = createRiderSettings();
  const el = {
    figures: byId('r-figures'),
    etaLabel: byId('r-eta-label'),
    eta: byId('r-eta'),
    etaNote: byId('r-eta-note'),
    elapsed: byId('r-elapsed'),
    energy: byId('r-energy'),
    cost: byId('r-cost'),
    costNote: byId('r-cost-note'),
    target: /** @type {HTMLSelectElement} */ (byId('r-target')),
    price: /** @type {HTMLInputElement} */ (byId('r-price')),
    currency: byId('r-currency'),
    chartsTitle: byId('r-charts-title'),
    chartsNote: byId('r-charts-note'),
    done: byId('r-done'),
    doneSoc: byId('r-done-soc'),
    doneEnergy: byId('r-done-energy'),
    doneDuration: byId('r-done-duration'),
    doneCost: byId('r-done-cost'),
    doneWhen: byId('r-done-when'),
    sessionsTitle: byId('r-sessions-title'),
    sessionsEmpty: byId('r-sessions-empty'),
    sessions: byId('r-sessions'),
  };
  const socChart = createLineChart(byId('c-soc'), SOC_CHART);
  const powerChart = createLineChart(byId('c-power'), POWER_CHART);

  /** @type {Map<string, Session>} */
  const sessions = new Map();
  /** @type {{ stationId: string, list: Transaction[] } | undefined} */
  let txs;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let txsRefresh;
  /** @type {{ stationId: string, connectorId: number | undefined, summary: Shown, openTx: TxLike | undefined, connectors: number } | undefined} */
  let shown;
  /** The session whose curves are drawn, and how many points they showed. */
  let drawnKey = '';
  let drawnSize = -1;
  /** Past-session rows by session key, so an opened one stays open across refreshes. @type {Map<string, SessionRow>} */
  const rows = new Map();

  el.target.replaceChildren(...TARGETS.map((t) => h('option', { value: String(t) }, `${t} %`)));
  el.target.value = String(settings.target);
  el.target.addEventListener('change', () => {
    settings.target = Number(el.target.value);
    drawFigures();
  });
  el.price.addEventListener('input', () => {
    const raw = el.price.value.trim();
    const n = Number(raw);
    if (raw === '') settings.setPrice(undefined);
    else if (Number.isFinite(n) && n >= 0) settings.setPrice(n);
    else return;
    drawFigures();
    drawDone();
  });
  void settings.load().then(() => {
    setText(el.currency, settings.currency);
    el.price.placeholder = String(settings.price);
    if (el.price.value === '' && settings.ownPrice !== undefined) el.price.value = String(settings.ownPrice);
    drawFigures();
    drawDone();
  });

  /** @param {number | null | undefined} wh */
  function cost(wh) {
    if (typeof wh !== 'number' || !Number.isFinite(wh)) return NONE;
    const amount = (wh / 1000) * settings.price;
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency: settings.currency }).format(amount);
    } catch {
      return `${amount.toFixed(2)} ${settings.currency}`;
    }
  }

  /** @param {string} stationId @param {TxLike} tx @returns {Session} */
  function session(stationId, tx) {
    const key = keyOf(stationId, tx);
    let s = sessions.get(key);
    if (s) {
      s.tx = { ...s.tx, ...tx };
      return s;
    }
    s = { key, stationId, tx: { ...tx }, series: createSeries(), loaded: false };
    sessions.set(key, s);
    if (sessions.size > MAX_SESSIONS) {
      for (const k of sessions.keys()) {
        if (k !== key && !drawnKey.startsWith(`${k}\u0000`)) {
          sessions.delete(k);
          break;
        }
      }
    }
    const loading = s;
    if (tx.transactionId !== undefined) {
      fetchSessionEvents(stationId, /** @type {Transaction} */ ({ ...tx, chargeBoxId: stationId, open: !tx.stopTime, idTag: tx.idTag ?? '' }), getToken)
        .then((events) => {
          for (const e of events) loading.series.add(e);
          loading.loaded = true;
          redraw();
        })
        .catch((/** @type {Error} */ err) => {
          loading.error = err.message;
          loading.loaded = true;
          onError?.(`Could not read the session's history: ${err.message}`);
          redraw();
        });
    } else loading.loaded = true;
    return s;
  }

  /** @param {string} stationId @param {number} [delayMs] */
  function refreshTransactions(stationId, delayMs = 0) {
    clearTimeout(txsRefresh);
    txsRefresh = setTimeout(() => {
      fetchTransactions(stationId, getToken)
        .then((list) => {
          if (shown?.stationId !== stationId) return;
          txs = { stationId, list };
          for (const t of list) {
            const s = sessions.get(keyOf(stationId, t));
            if (s) s.tx = { ...s.tx, ...t };
          }
          redraw();
        })
        .catch((/** @type {Error} */ err) => onError?.(`Could not read past sessions: ${err.message}`));
    }, delayMs);
  }

  /** The connector's transactions from the REST list, newest first. @returns {Transaction[]} */
  function connectorTxs() {
    if (!shown || txs?.stationId !== shown.stationId) return [];
    return txs.list.filter((t) => shown && (shown.connectorId === undefined || t.connectorId === shown.connectorId));
  }

  /** The last session on the connector once it stopped (no charge running there). */
  function finished() {
    if (!shown || shown.openTx) return undefined;
    const last = connectorTxs()[0];
    return last && !last.open && last.stopTime ? last : undefined;
  }

  /** The session the curves show: the running one, else the one that just finished. */
  function chartSession() {
    if (!shown) return undefined;
    if (shown.openTx) return session(shown.stationId, shown.openTx);
    const last = finished();
    return last ? session(shown.stationId, last) : undefined;
  }

  function drawFigures() {
    setText(el.etaLabel, `Time to ${settings.target} %`);
    if (!shown) return;
    const s = shown.summary;
    const tx = shown.openTx;
    const charging = s.status === 'Charging';
    let eta = NONE;
    let note = '';
    /** @type {number | undefined} */
    let seconds;
    if (typeof s.soc === 'number' && s.soc >= settings.target) {
      eta = 'Reached';
      note = `SOC ${pct(s.soc)}`;
    } else if (!tx || !charging) {
      note = tx ? `${s.status ?? 'Status unknown'}: not charging now` : 'No charge running';
    } else {
      const capacityAh = capacityOf(s.model, s.maxRange);
      const est = estimateTimeToTarget({
        soc: s.soc ?? Number.NaN,
        targetSoc: settings.target,
        capacityAh: capacityAh ?? 0,
        currentA: s.current ?? 0,
        ...(typeof s.voltage === 'number' ? { voltageV: s.voltage } : {}),
        resistanceOhm: (s.model ? TYPICAL_RESISTANCE_OHM.get(s.model) : undefined) ?? 0.05,
      });
      if (est.ok) {
        seconds = est.seconds;
        eta = duration(est.seconds * 1000);
        const how = est.phase === 'cv' ? 'tapering: the current falls as the pack fills' : 'at the current rate, then the taper';
        note = est.endsBy === 'complete' ? `${how}; the pack stops taking charge near ${pct(Math.round(est.endSoc))}` : how;
      } else {
        note = { 'not-charging': 'waiting for current', 'unknown-capacity': 'battery model not known yet', 'bad-input': 'waiting for the SOC', reached: '' }[est.reason] ?? '';
      }
    }
    el.figures.dataset.running = tx ? 'yes' : 'no';
    setText(el.eta, eta);
    el.eta.dataset.seconds = seconds === undefined ? '' : String(Math.round(seconds));
    setText(el.etaNote, note);
    setText(el.energy, tx ? kwh(s.energy) : NONE);
    setText(el.cost, tx ? cost(s.energy) : NONE);
    setText(el.costNote, settings.price > 0 ? `at ${settings.price} ${settings.currency}/kWh` : 'set a price below');
    drawElapsed();
  }

  function drawElapsed() {
    const tx = shown?.openTx;
    const start = Date.parse(tx?.startTime ?? '');
    if (!shown || !tx || !Number.isFinite(start)) return void setText(el.elapsed, NONE);
    // Station time, when the station's clock runs ahead of this browser's (a simulator on a fast clock).
    const newest = sessions.get(keyOf(shown.stationId, tx))?.series.points().at(-1)?.t ?? 0;
    setText(el.elapsed, duration(Math.max(Date.now(), newest) - start));
  }

  function drawCharts() {
    const s = chartSession();
    const key = `${s?.key ?? ''}\u0000${s?.loaded ?? ''}`;
    const size = s?.series.size ?? 0;
    if (key === drawnKey && size === drawnSize) return;
    drawnKey = key;
    drawnSize = size;
    const points = s ? s.series.points() : [];
    const start = Date.parse(s?.tx.startTime ?? '') || (points[0]?.t ?? 0);
    socChart.update(points, start);
    powerChart.update(points, start);
    setText(el.chartsTitle, !s ? 'Charge curve' : shown?.openTx ? 'This charge' : 'Last charge');
    setText(el.chartsNote, !s ? 'The curve starts with the first meter values of a charge.' : !s.loaded ? 'Reading the session so far…' : points.length === 0 ? 'No meter values for this session yet.' : s.error ? `Only live values: ${s.error}` : '');
  }

  function drawDone() {
    const last = finished();
    el.done.hidden = !last;
    if (!last || !shown) return;
    const s = sessions.get(keyOf(shown.stationId, last));
    const finalSoc = last.socEnd ?? s?.series.latest('soc')?.soc;
    setText(el.doneSoc, pct(finalSoc));
    setText(el.doneEnergy, kwh(last.energyWh));
    setText(el.doneDuration, last.stopTime ? duration(Date.parse(last.stopTime) - Date.parse(last.startTime)) : NONE);
    setText(el.doneCost, cost(last.energyWh));
    setText(el.doneWhen, `Session #${last.transactionId ?? '?'} ended at ${clock(last.stopTime)}${last.stopReason ? ` (${last.stopReason})` : ''}.`);
  }

  /** @param {Transaction} t */
  function sessionLine(t) {
    // A stale transaction was never stopped (a newer one started on the connector, or the station rebooted).
    const dur = t.stopTime ? duration(Date.parse(t.stopTime) - Date.parse(t.startTime)) : t.stale ? 'never stopped' : 'running';
    const soc = t.socStart !== undefined || t.socEnd !== undefined ? ` · ${pct(t.socStart)} → ${pct(t.socEnd)}` : '';
    const day = new Date(t.startTime).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    return `#${t.transactionId ?? '?'} · ${day} ${clock(t.startTime)} · ${dur} · ${kwh(t.energyWh)}${soc}`;
  }

  /** @param {Transaction} t @param {string} stationId */
  function sessionRow(t, stationId) {
    const key = keyOf(stationId, t);
    let row = rows.get(key);
    if (!row) {
      const socBox = h('div', { class: 'chart chart-small', role: 'img', 'aria-label': 'State of charge: not loaded' });
      const powerBox = h('div', { class: 'chart chart-small', role: 'img', 'aria-label': 'Power: not loaded' });
      const summary = h('summary', {}, '');
      const details = h('details', { class: 'past-session', dataset: { tx: String(t.transactionId ?? '') } }, summary, h('p', { class: 'hint chart-caption' }, 'State of charge (%)'), socBox, h('p', { class: 'hint chart-caption' }, 'Power (kW)'), powerBox);
      /** @type {{ soc: ReturnType<typeof createLineChart>, power: ReturnType<typeof createLineChart> } | undefined} */
      let charts;
      const item = h('li', {}, details);
      /** @type {SessionRow} */
      const r = { item, summary, tx: t, draw: () => {} };
      row = r;
      let drawn = -1;
      r.draw = () => {
        if (!details.open) return;
        const s = session(stationId, r.tx);
        // Renders come with every change of any station: redraw only when this session's curve changed.
        if (charts && s.series.size === drawn) return;
        drawn = s.series.size;
        charts ??= { soc: createLineChart(socBox, SOC_CHART, { height: 120 }), power: createLineChart(powerBox, POWER_CHART, { height: 120 }) };
        const start = Date.parse(r.tx.startTime);
        charts.soc.update(s.series.points(), start);
        charts.power.update(s.series.points(), start);
      };
      details.addEventListener('toggle', () => r.draw());
      rows.set(key, row);
    }
    row.tx = t;
    setText(row.summary, sessionLine(t));
    return row;
  }

  function drawSessions() {
    if (!shown) return;
    const list = connectorTxs().filter((t) => !t.open);
    setText(el.sessionsTitle, shown.connectorId !== undefined && shown.connectors > 1 ? `Past sessions on connector ${shown.connectorId}` : 'Past sessions');
    const loading = txs?.stationId !== shown.stationId;
    el.sessionsEmpty.hidden = !loading && list.length > 0;
    setText(el.sessionsEmpty, loading ? 'Reading past sessions…' : 'No finished session on this connector yet.');
    const items = list.map((t) => sessionRow(t, shown?.stationId ?? ''));
    const same = items.length === el.sessions.childElementCount && items.every((r, i) => el.sessions.children[i] === r.item);
    if (!same) el.sessions.replaceChildren(...items.map((r) => r.item));
    for (const r of items) r.draw();
  }

  function redraw() {
    drawFigures();
    drawCharts();
    drawDone();
    drawSessions();
  }

  return {
    /**
     * The station and connector on screen, with that connector's summary and open transaction (from the store).
     * @param {{ id: string, openTx: TxLike[], summary?: { connectors?: unknown[] } } | undefined} st
     * @param {Shown} summary
     */
    render(st, summary) {
      if (!st) {
        shown = undefined;
        return;
      }
      const connectorId = summary.connectorId;
      const openTx = st.openTx.find((t) => connectorId === undefined || t.connectorId === connectorId);
      const stationChanged = shown?.stationId !== st.id;
      shown = { stationId: st.id, connectorId, summary, openTx, connectors: st.summary?.connectors?.length ?? 0 };
      if (stationChanged) {
        txs = undefined;
        rows.clear();
        el.sessions.replaceChildren();
        refreshTransactions(st.id);
      }
      redraw();
    },

    /** Every new event from the connection: live samples extend the curves; starts and stops refresh the sessions. */
    onEvent(/** @type {import('./series.js').MeterEvent} */ e) {
      if (e.type === 'meterValues') {
        let changed = false;
        for (const s of sessions.values()) {
          if (s.stationId === e.chargeBoxId && belongsTo(e, s.tx) && s.series.add(e)) changed = true;
        }
        if (changed) {
          drawCharts();
          for (const r of rows.values()) r.draw();
        }
      } else if ((e.type === 'transactionStarted' || e.type === 'transactionStopped' || e.type === 'sessionSummary') && shown?.stationId === e.chargeBoxId) {
        // The REST list reflects the event once the state has taken it; a short delay also merges a burst.
        refreshTransactions(e.chargeBoxId, 300);
      }
    },

    /** Once a second. */
    tick: drawElapsed,
  };
}
