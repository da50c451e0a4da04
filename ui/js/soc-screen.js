// The per-station SOC screen: gauge, vehicle (model, range, where the figures came from and how old they
// are), live electrical figures, the open transaction and the recent events.
import { byId, h, setText } from './dom.js';
import { NONE, ageSince, clock, duration, energyWh, num, power, withUnit } from './format.js';
import { createSocGauge } from './soc-gauge.js';
import { statusClass } from './status-colors.js';

const FRESH_MS = 15_000;
const STALE_MS = 60_000;

function sourceLabel(vehicle) {
  if (!vehicle) return NONE;
  if (vehicle.source === 'preChargeData') return `${vehicle.messageId ?? 'VehicleInfo / PreChargeData'} (DataTransfer)`;
  if (vehicle.source === 'meterValues') return 'MeterValues';
  return vehicle.source;
}

function openTxOf(st, connectorId) {
  return connectorId === undefined ? st.openTx[0] : st.openTx.find((t) => t.connectorId === connectorId);
}

/** The gateway's summary with the chosen connector's figures on top (it picks one itself when none is chosen). */
function shownSummary(st, chosen) {
  const s = st.summary ?? {};
  const c = chosen === undefined ? undefined : s.connectors?.find((x) => x.connectorId === chosen);
  return c ? { ...s, ...c } : s;
}

/** onConnectorChange: the user chose another connector (the operator commands follow it). */
export function createSocScreen({ onConnectorChange } = {}) {
  const el = {
    empty: byId('station-empty'),
    view: byId('station-view'),
    title: byId('st-title'),
    boot: byId('st-boot'),
    online: byId('st-online'),
    status: byId('st-status'),
    link: byId('st-link'),
    model: byId('v-model'),
    range: byId('v-range'),
    source: byId('v-source'),
    age: byId('v-age'),
    voltage: byId('m-voltage'),
    current: byId('m-current'),
    power: byId('m-power'),
    energy: byId('m-energy'),
    energyLabel: byId('m-energy-label'),
    temperature: byId('m-temperature'),
    connector: byId('m-connector'),
    meterAge: byId('m-age'),
    txNone: byId('tx-none'),
    txDetails: byId('tx-details'),
    txId: byId('tx-id'),
    txIdTag: byId('tx-idtag'),
    txStart: byId('tx-start'),
    txEnergy: byId('tx-energy'),
    txConnector: byId('tx-connector'),
    feed: byId('event-feed'),
    connectorPick: byId('st-connector-pick'),
    connectorSelect: byId('st-connector'),
  };
  /** Station id → the connector the user chose on a station with several. */
  const chosenConnector = new Map();
  const gauge = createSocGauge(byId('soc-gauge'));
  let current;
  let renderedFeedTop;

  function renderAges() {
    const st = current;
    if (!st) return;
    const now = Date.now();
    const age = ageSince(st.vehicle?.updatedAt, now);
    if (age === undefined) {
      setText(el.age, NONE);
      el.age.dataset.fresh = 'unknown';
    } else {
      setText(el.age, `${duration(age)} ago${age > STALE_MS ? ' (stale)' : ''}`);
      el.age.dataset.fresh = age <= FRESH_MS ? 'fresh' : age <= STALE_MS ? 'aging' : 'stale';
    }
    const tx = openTxOf(st, shownSummary(st, chosenConnector.get(st.id)).connectorId);
    if (tx) setText(el.txStart, `${clock(tx.startTime)} (${duration(ageSince(tx.startTime, now))} ago)`);
    const meterAge = ageSince(st.meterAt, now);
    setText(el.meterAge, meterAge === undefined ? 'No MeterValues received yet.' : `Last MeterValues at ${clock(st.meterAt)} (${duration(meterAge)} ago)${meterAge > STALE_MS ? ': readings may be stale' : ''}.`);
    const seen = ageSince(st.lastSeen, now);
    setText(el.link, [st.linkKind ? `link ${st.linkKind}` : null, st.upstream ? `upstream ${st.upstream}` : null, seen !== undefined ? `last message ${duration(seen)} ago` : null].filter(Boolean).join(' · '));
  }

  function renderFeed(st) {
    const top = st.feed[0]?.id;
    if (top === renderedFeedTop && el.feed.childElementCount === st.feed.length) return;
    renderedFeedTop = top;
    el.feed.replaceChildren(
      ...st.feed.map((item) => h('li', { class: `feed-${item.kind}` }, h('time', { datetime: item.at }, clock(item.at)), ' ', item.text)),
    );
  }

  function renderConnectorPick(st, shown) {
    const list = st.summary?.connectors ?? [];
    el.connectorPick.hidden = list.length < 2;
    if (list.length < 2) return;
    const options = list.map((c) => h('option', { value: String(c.connectorId) }, `${c.connectorId}${c.status ? `: ${c.status}` : ''}`));
    const same = el.connectorSelect.options.length === options.length && options.every((o, i) => el.connectorSelect.options[i].textContent === o.textContent);
    if (!same) el.connectorSelect.replaceChildren(...options);
    el.connectorSelect.value = String(shown);
  }

  el.connectorSelect.addEventListener('change', () => {
    if (!current) return;
    chosenConnector.set(current.id, Number(el.connectorSelect.value));
    api.render(current);
    onConnectorChange?.();
  });

  const api = {
    render(st) {
      current = st;
      el.empty.hidden = Boolean(st);
      el.view.hidden = !st;
      if (!st) return;
      const s = shownSummary(st, chosenConnector.get(st.id));
      setText(el.title, st.id);
      renderConnectorPick(st, s.connectorId);
      const b = st.boot ?? {};
      setText(el.boot, [b.chargePointVendor, b.chargePointModel, b.firmwareVersion ? `fw ${b.firmwareVersion}` : null].filter(Boolean).join(' · ') || 'no BootNotification seen');
      setText(el.online, st.online ? 'Online' : 'Offline');
      el.online.className = `badge ${st.online ? 'online' : 'offline'}`;
      const status = s.status ?? st.connectors.get(s.connectorId ?? 1)?.status ?? null;
      setText(el.status, status ?? 'Status unknown');
      el.status.className = `badge status ${statusClass(status)}`;

      gauge.update(s.soc, status === 'Charging');
      setText(el.model, s.model ?? NONE);
      setText(el.range, s.range == null && s.maxRange == null ? NONE : `${num(s.range)} km / ${num(s.maxRange, 0)} km`);
      setText(el.source, sourceLabel(st.vehicle));

      setText(el.voltage, withUnit(s.voltage, 'V'));
      setText(el.current, withUnit(s.current, 'A'));
      setText(el.power, power(s.power));
      setText(el.energy, energyWh(s.energy));
      setText(el.temperature, withUnit(s.temperature, '°C'));
      setText(el.connector, s.connectorId !== undefined ? String(s.connectorId) : NONE);

      const tx = openTxOf(st, s.connectorId);
      el.txNone.hidden = Boolean(tx);
      el.txDetails.hidden = !tx;
      setText(el.energyLabel, tx ? 'Energy (this session)' : 'Energy');
      if (tx) {
        setText(el.txId, tx.transactionId !== undefined ? `#${tx.transactionId}` : 'pending id');
        setText(el.txIdTag, tx.idTag || NONE);
        setText(el.txConnector, tx.connectorId !== undefined ? String(tx.connectorId) : NONE);
        setText(el.txEnergy, s.transactionId === tx.transactionId ? energyWh(s.energy) : NONE);
      }
      renderFeed(st);
      renderAges();
    },
    /** The figures shown for a station: the chosen connector's, else those of the gateway's pick. */
    shownSummary(st) {
      return shownSummary(st, chosenConnector.get(st.id));
    },
    /** The connector whose figures are shown for a station (chosen, else the gateway's pick). */
    shownConnector(st) {
      return shownSummary(st, chosenConnector.get(st.id)).connectorId;
    },
    /** Once a second: ages and durations move even when nothing arrives. */
    tick: renderAges,
  };
  return api;
}
