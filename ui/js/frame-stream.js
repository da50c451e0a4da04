// Operators' live OCPP frame stream: filters sent to the gateway (which filters before sending), newest
// frames on top, bounded, drawn once per animation frame; earlier frames can be read from the message log.
import { byId, h, setText } from './dom.js';
import { clock } from './format.js';

const MAX_ROWS = 300;
const FILTER_DEBOUNCE_MS = 300;

const LEG_ARROWS = {
  'station:in': 'station → gateway',
  'station:out': 'gateway → station',
  'upstream:in': 'central system → gateway',
  'upstream:out': 'gateway → central system',
};
const TYPE_LABELS = { CALL: 'CALL', CALLRESULT: 'RESULT', CALLERROR: 'ERROR' };

function list(text) {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function row(entry) {
  const problems = [...(entry.findings ?? []).map((f) => `${f.rule}: ${f.message}`), ...(entry.problem ? [entry.problem] : [])];
  const extra = entry.disposition && entry.disposition !== 'forwarded' ? `${entry.disposition}${entry.fault ? ` ${entry.fault.ruleId}` : ''}` : '';
  return h(
    'tr',
    // An injected frame's problem says what a fault rule did: a note, not a finding about the station.
    { class: (entry.findings ?? []).length > 0 || (entry.problem && entry.disposition !== 'injected') ? 'has-finding' : undefined, 'data-id': String(entry.id) },
    h('td', { class: 'mono' }, clock(entry.time, true)),
    h('td', {}, entry.chargeBoxId),
    h('td', { class: `dir dir-${entry.leg}-${entry.direction}` }, LEG_ARROWS[`${entry.leg}:${entry.direction}`] ?? `${entry.leg} ${entry.direction}`),
    h('td', {}, TYPE_LABELS[entry.messageType] ?? '?', extra ? h('span', { class: 'tag' }, extra) : null),
    h('td', {}, entry.action ?? ''),
    h('td', { class: 'findings' }, problems.length > 0 ? problems.join('\n') : ''),
    h('td', { class: 'raw' }, h('code', {}, entry.raw)),
  );
}

/** connection: { setFrameFilter }, getToken: for the message-log read (Authorization header). */
export function createFrameStream({ connection, getToken, knownStations }) {
  const el = {
    panel: byId('frames'),
    form: byId('frame-filters'),
    station: byId('ff-station'),
    stations: byId('ff-stations'),
    action: byId('ff-action'),
    direction: byId('ff-direction'),
    leg: byId('ff-leg'),
    findings: byId('ff-findings'),
    live: byId('ff-live'),
    clear: byId('ff-clear'),
    load: byId('ff-load'),
    count: byId('ff-count'),
    rows: byId('frame-rows'),
    note: byId('ff-note'),
  };
  let live = false;
  let lost = 0;
  let pending = [];
  let drawScheduled = false;
  let debounce;
  const shown = new Set();

  function filter() {
    const f = { findingsOnly: el.findings.checked };
    const ids = list(el.station.value);
    const actions = list(el.action.value);
    if (ids.length > 0) f.chargeBoxIds = ids;
    if (actions.length > 0) f.actions = actions;
    if (el.direction.value !== 'any') f.direction = el.direction.value;
    if (el.leg.value !== 'any') f.leg = el.leg.value;
    return f;
  }

  function updateCount() {
    const n = el.rows.childElementCount;
    setText(el.count, `${n} ${n === 1 ? 'frame' : 'frames'} shown${lost > 0 ? `, ${lost} lost (this page read too slowly)` : ''}${live ? '' : ' · paused'}`);
  }

  function draw() {
    drawScheduled = false;
    const batch = pending;
    pending = [];
    const fragment = document.createDocumentFragment();
    // Newest first: the batch arrived oldest first.
    for (let i = batch.length - 1; i >= 0; i--) fragment.append(row(batch[i]));
    el.rows.prepend(fragment);
    while (el.rows.childElementCount > MAX_ROWS) {
      shown.delete(el.rows.lastElementChild.dataset.id);
      el.rows.lastElementChild.remove();
    }
    updateCount();
  }

  function add(entry) {
    const key = String(entry.id);
    if (shown.has(key)) return;
    shown.add(key);
    pending.push(entry);
    if (!drawScheduled) {
      drawScheduled = true;
      requestAnimationFrame(draw);
    }
  }

  function setLive(on) {
    live = on;
    el.live.setAttribute('aria-pressed', on ? 'true' : 'false');
    el.live.textContent = on ? 'Pause stream' : 'Start stream';
    connection.setFrameFilter(on ? filter() : undefined);
    updateCount();
  }

  async function loadRecent() {
    const f = filter();
    const params = new URLSearchParams({ limit: '100' });
    for (const id of f.chargeBoxIds ?? []) params.append('chargeBoxId', id);
    for (const a of f.actions ?? []) params.append('action', a);
    if (f.direction) params.set('direction', f.direction);
    if (f.leg) params.set('leg', f.leg);
    if (f.findingsOnly) params.set('hasFindings', 'true');
    setText(el.note, 'Reading the message log…');
    try {
      const res = await fetch(`api/messages?${params}`, { headers: { Authorization: `Bearer ${getToken() ?? ''}` } });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
      const entries = (body.entries ?? []).filter((e) => !shown.has(String(e.id)));
      // The log answers newest first; rows are appended below what the live stream already shows.
      const fragment = document.createDocumentFragment();
      for (const e of entries) {
        shown.add(String(e.id));
        fragment.append(row(e));
      }
      el.rows.append(fragment);
      setText(el.note, `${entries.length} earlier frames read from the message log.`);
      updateCount();
    } catch (err) {
      setText(el.note, `Could not read the message log: ${err.message}`);
    }
  }

  el.form.addEventListener('submit', (ev) => ev.preventDefault());
  el.form.addEventListener('input', (ev) => {
    if (ev.target === el.live) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      if (live) connection.setFrameFilter(filter());
    }, FILTER_DEBOUNCE_MS);
  });
  el.live.addEventListener('click', () => setLive(!live));
  el.clear.addEventListener('click', () => {
    el.rows.replaceChildren();
    shown.clear();
    lost = 0;
    updateCount();
  });
  el.load.addEventListener('click', () => void loadRecent());

  return {
    setVisible(visible) {
      el.panel.hidden = !visible;
      if (!visible && live) setLive(false);
    },
    onFrame(entry) {
      if (live) add(entry);
    },
    onLost(info) {
      lost = info.totalLost;
      updateCount();
    },
    /** The station filter offers the stations the page knows. */
    refreshStations() {
      const ids = knownStations();
      if ([...el.stations.options].map((o) => o.value).join(',') === ids.join(',')) return;
      el.stations.replaceChildren(...ids.map((id) => h('option', { value: id })));
    },
    start() {
      setLive(true);
    },
  };
}
