// What the page knows about each station: for the followed one, the snapshot from `subscribe` kept current by
// sequenced events (each applied once: de-duplicated by id, state moved only by seq) and by the gateway's
// summaries; for the rest of the fleet, the compact entries of the fleet feed.
import { describeEvent } from './event-text.js';

const FEED_LIMIT = 60;
const SEEN_LIMIT = 5000;
const VEHICLE_MEASURANDS = new Set(['SoC', 'Voltage', 'Current.Import', 'Current.Offered', 'Temperature']);

function emptyStation(id) {
  return {
    id,
    /** seq of the last event applied to the state below. */
    seq: 0,
    /** Highest seq received in any form: what `since` asks the gateway to replay after. */
    maxSeq: 0,
    online: false,
    lastSeen: undefined,
    linkKind: undefined,
    upstream: undefined,
    /** The relay's upstream link state (open / connecting / closed / local) while connected, from /api/stations. */
    upstreamState: undefined,
    boot: undefined,
    connectors: new Map(),
    openTx: [],
    vehicle: undefined,
    /** Station time of the newest MeterValues sample. */
    meterAt: undefined,
    summary: undefined,
    /** Findings events this page has seen (live or read back): the fleet's "has findings" filter. */
    findings: 0,
    feed: [],
    seen: new Set(),
    seenOrder: [],
  };
}

function vehicleFromSnapshot(v) {
  if (!v) return undefined;
  return { source: v.source, updatedAt: v.updatedAt, messageId: undefined };
}

export function createStationStore() {
  const stations = new Map();
  const listeners = new Set();
  let sortedIds;

  const notify = (id) => {
    for (const l of listeners) l(id);
  };

  const station = (id) => {
    let st = stations.get(id);
    if (!st) {
      st = emptyStation(id);
      stations.set(id, st);
    }
    return st;
  };

  const remember = (st, id) => {
    if (st.seen.has(id)) return false;
    st.seen.add(id);
    st.seenOrder.push(id);
    if (st.seenOrder.length > SEEN_LIMIT) st.seen.delete(st.seenOrder.shift());
    return true;
  };

  const addToFeed = (st, item) => {
    st.feed.push(item);
    st.feed.sort((a, b) => b.seq - a.seq);
    if (st.feed.length > FEED_LIMIT) st.feed.length = FEED_LIMIT;
  };

  function applySnapshot(st, snap) {
    st.online = snap.online;
    st.lastSeen = snap.lastSeen;
    st.linkKind = snap.linkKind;
    st.upstream = snap.upstream;
    st.boot = snap.boot;
    st.connectors = new Map(snap.connectors.map((c) => [c.connectorId, { ...c }]));
    st.openTx = snap.openTransactions.map((t) => ({ ...t }));
    for (const m of snap.meter) for (const sample of m.samples) if (!st.meterAt || sample.timestamp > st.meterAt) st.meterAt = sample.timestamp;
    const messageId = st.vehicle?.messageId;
    st.vehicle = vehicleFromSnapshot(snap.vehicle);
    if (st.vehicle && st.vehicle.source === 'preChargeData') st.vehicle.messageId = messageId;
  }

  /** Moves the state by one event (only events newer than what the state already reflects). */
  function applyToState(st, e) {
    switch (e.type) {
      case 'stationConnected':
        st.online = true;
        st.linkKind = e.data.linkKind;
        st.upstream = e.data.upstream;
        break;
      case 'stationDisconnected':
        st.online = false;
        break;
      case 'bootNotification':
        st.boot = e.data;
        break;
      case 'status': {
        const id = e.connectorId ?? 0;
        const prev = st.connectors.get(id);
        if (prev && Date.parse(prev.timestamp) > Date.parse(e.timestamp)) break;
        st.connectors.set(id, { connectorId: id, status: e.data.status, errorCode: e.data.errorCode, info: e.data.info, timestamp: e.timestamp });
        break;
      }
      case 'transactionStarted':
        if (!st.openTx.some((t) => e.transactionId !== undefined && t.transactionId === e.transactionId)) {
          st.openTx.push({ transactionId: e.transactionId, connectorId: e.connectorId, idTag: e.data.idTag, startTime: e.data.startTime, meterStart: e.data.meterStart, open: true });
        }
        break;
      case 'transactionStopped':
        st.openTx = st.openTx.filter((t) =>
          e.transactionId !== undefined ? t.transactionId !== e.transactionId : e.connectorId !== undefined && t.connectorId !== e.connectorId,
        );
        break;
      case 'preChargeData':
        if (!st.vehicle || Date.parse(st.vehicle.updatedAt) <= Date.parse(e.timestamp)) {
          st.vehicle = { source: 'preChargeData', messageId: e.data.messageId, updatedAt: e.timestamp };
        }
        break;
      case 'meterValues':
        if (!st.meterAt || e.timestamp > st.meterAt) st.meterAt = e.timestamp;
        if (e.data.sampledValues.some((sv) => VEHICLE_MEASURANDS.has(sv.measurand) && sv.phase === undefined)) {
          if (!st.vehicle || Date.parse(st.vehicle.updatedAt) <= Date.parse(e.timestamp)) st.vehicle = { source: 'meterValues', updatedAt: e.timestamp };
        }
        break;
      case 'resync':
        st.connectors = new Map(e.data.connectors.map((c) => [c.connectorId, { ...c }]));
        st.openTx = e.data.openTransactions.map((t) => ({ ...t, open: true }));
        break;
      default:
        break;
    }
    if (e.type !== 'stationDisconnected' && e.type !== 'resync' && (!st.lastSeen || e.receivedAt > st.lastSeen)) st.lastSeen = e.receivedAt;
  }

  return {
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    get(id) {
      return stations.get(id);
    },

    /** Station ids in order; sorted again only when a station was added (this runs every drawn frame). */
    ids() {
      if (!sortedIds || sortedIds.length !== stations.size) sortedIds = [...stations.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return sortedIds;
    },

    /** `since` for a (re)subscribe: the newest seq held per station. */
    sinceMap() {
      const since = {};
      for (const st of stations.values()) if (st.maxSeq > 0) since[st.id] = st.maxSeq;
      return since;
    },

    /** The subscribe ack: one snapshot per station, and which replays may have a gap. */
    applySubscribe(ack) {
      for (const entry of ack.stations) {
        const st = station(entry.chargeBoxId);
        if (entry.snapshot && entry.seq >= st.seq) {
          applySnapshot(st, entry.snapshot);
          st.seq = entry.seq;
        }
        if (entry.summary && (!st.summary || entry.seq >= st.summary.seq)) st.summary = { ...entry.summary, seq: entry.seq };
        st.maxSeq = Math.max(st.maxSeq, entry.seq);
        notify(st.id);
      }
      for (const r of ack.replay) {
        if (!r.gap) continue;
        const st = station(r.chargeBoxId);
        addToFeed(st, { id: `gap:${r.from}`, seq: r.from + 0.5, at: new Date().toISOString(), kind: 'warning', text: 'Some events while disconnected are no longer in the gateway history; the state above is current.' });
        notify(st.id);
      }
    },

    /** One sequenced event; false when it was a duplicate. */
    applyEvent(e) {
      const st = station(e.chargeBoxId);
      if (!remember(st, e.id)) return false;
      st.maxSeq = Math.max(st.maxSeq, e.seq);
      if (e.seq > st.seq) {
        applyToState(st, e);
        st.seq = e.seq;
      } else if (e.type === 'preChargeData' && st.vehicle?.source === 'preChargeData' && Date.parse(st.vehicle.updatedAt) === Date.parse(e.timestamp)) {
        // The snapshot does not name the message the vehicle figures came in; its event from the history does.
        st.vehicle.messageId = e.data.messageId;
      }
      if (e.type === 'finding') st.findings++;
      const text = describeEvent(e);
      if (text) addToFeed(st, { id: e.id, seq: e.seq, at: e.receivedAt, kind: text.kind, text: text.text, type: e.type });
      notify(st.id);
      return true;
    },

    /** The relay's upstream state per connected station (GET /api/stations): open, connecting, closed or local. */
    setUpstreamStates(list) {
      const states = new Map(list.map((s) => [s.chargeBoxId, s.upstream]));
      for (const st of stations.values()) {
        const next = states.get(st.id);
        if (st.upstreamState === next) continue;
        st.upstreamState = next;
        notify(st.id);
      }
    },

    /** Findings read from the history (GET /api/events?type=finding): counted once each, state untouched. */
    countFindings(events) {
      for (const e of events) {
        if (e.type !== 'finding') continue;
        const st = stations.get(e.chargeBoxId);
        if (!st || !remember(st, e.id)) continue;
        st.findings++;
        notify(st.id);
      }
    },

    /**
     * Fleet-feed entries (src/push/fleet-entry.ts): the newest state of stations this page does not follow.
     * `followed(id)` stations are skipped: their events and summaries are more detailed and already newer.
     */
    applyFleet(entries, followed) {
      for (const entry of entries) {
        const st = station(entry.chargeBoxId);
        let findings = 0;
        for (const id of entry.findings ?? []) if (remember(st, id)) findings++;
        st.findings += findings;
        if (followed(st.id) || entry.seq < st.seq) {
          if (findings > 0) notify(st.id);
          continue;
        }
        st.seq = entry.seq;
        st.maxSeq = Math.max(st.maxSeq, entry.seq);
        st.online = entry.online;
        st.lastSeen = entry.lastSeen ?? undefined;
        st.linkKind = entry.linkKind ?? undefined;
        st.upstream = entry.upstream ?? undefined;
        st.connectors = new Map(entry.connectors.map((c) => [c.connectorId, { connectorId: c.connectorId, status: c.status }]));
        st.openTx = entry.connectors.filter((c) => c.transactionId !== null).map((c) => ({ transactionId: c.transactionId, connectorId: c.connectorId, open: true }));
        const { chargeBoxId, seq, online, status, soc, power, model } = entry;
        st.summary = { chargeBoxId, seq, online, status, soc, power, model };
        notify(st.id);
      }
    },

    applySummary(summary) {
      const st = station(summary.chargeBoxId);
      if (st.summary && summary.seq < st.summary.seq) return;
      st.summary = summary;
      st.online = summary.online;
      notify(st.id);
    },
  };
}
