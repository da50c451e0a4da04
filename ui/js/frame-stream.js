// The message log view: the live frame stream (filters sent to the gateway, which filters before sending) and
// the log's history (GET /api/messages, paged with its cursor) in one table, newest first, bounded. A request
// and its answer are paired by station + leg + messageId, each row linking to the other; each frame opens as a
// JSON tree; findings show their rule. Exports read the log with the token in a header, never in a URL.
import { byId, h, setText } from './dom.js';
import { clock } from './format.js';
import { jsonTree } from './ops/json-tree.js';

const MAX_ROWS = 300;
const PAGE = 100;
const EXPORT_JSON_LIMIT = 1000;
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

// A mirror upstream's frames pair among themselves (its call with the gateway's reply), never with the real session.
const pairKey = (e) => (e.messageId === undefined ? undefined : `${e.chargeBoxId}\n${e.leg}\n${e.messageId}\n${e.mirror ?? ''}`);

/** The answer in a few words: its status field, the CALLERROR code, or "answered". */
function answerWords(e) {
  if (e.messageType === 'CALLERROR') {
    const code = Array.isArray(safeParse(e.raw)) ? safeParse(e.raw)[2] : undefined;
    return `error ${code ?? ''}`.trim();
  }
  const status = e.payload && typeof e.payload === 'object' ? e.payload.status : undefined;
  return typeof status === 'string' ? status : 'answered';
}

function safeParse(raw) {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function frameCell(entry) {
  const details = h('details', { class: 'frame-json' }, h('summary', {}, h('code', {}, entry.raw)));
  // The tree is built when opened: 300 rows of trees would cost more than the table.
  details.addEventListener('toggle', () => {
    if (!details.open || details.childElementCount > 1) return;
    const parsed = safeParse(entry.raw);
    details.append(parsed === undefined ? h('pre', { class: 'raw-text' }, entry.raw) : jsonTree(parsed, `frame ${entry.id}`));
  });
  return h('td', { class: 'raw' }, details);
}

function row(entry) {
  const findings = entry.findings ?? [];
  // An injected or mirror frame's problem says what the gateway did with it: a note, not a finding about the station.
  const injected = entry.disposition === 'injected';
  const note = injected || entry.disposition === 'mirror';
  const problems = findings.length > 0 || (entry.problem && !note);
  const tagOf = entry.fault ? ` ${entry.fault.ruleId}` : entry.mirror ? ` ${entry.mirror}` : '';
  const extra = entry.disposition && entry.disposition !== 'forwarded' ? `${entry.disposition}${tagOf}` : '';
  return h(
    'tr',
    { id: `frame-${entry.id}`, class: injected ? 'injected' : problems ? 'has-finding' : undefined, 'data-id': String(entry.id), 'data-type': entry.messageType ?? '', 'data-disposition': entry.disposition ?? '' },
    h('td', { class: 'mono' }, clock(entry.time, true)),
    h('td', {}, entry.chargeBoxId),
    h('td', { class: `dir dir-${entry.leg}-${entry.direction}` }, LEG_ARROWS[`${entry.leg}:${entry.direction}`] ?? `${entry.leg} ${entry.direction}`),
    h('td', {}, TYPE_LABELS[entry.messageType] ?? '?', extra ? h('span', { class: 'tag' }, extra) : null),
    h('td', {}, entry.action ?? ''),
    h('td', { class: 'pair' }),
    h('td', { class: 'findings' },
      findings.map((f) => h('span', { class: 'finding' }, h('strong', {}, f.rule), `: ${f.message}`)),
      injected
        ? h('span', { class: 'fault-note' }, h('strong', {}, `fault rule ${entry.fault?.ruleId ?? '?'} (${entry.fault?.kind ?? 'injected'})`), entry.problem ? `: ${entry.problem.replace(/ \(fault [^)]*\)$/, '')}` : '')
        : entry.problem ? h('span', { class: note ? 'note' : 'finding' }, entry.problem) : null,
    ),
    frameCell(entry),
  );
}

/** connection: { setFrameFilter }, getToken: for the message-log reads (Authorization header). */
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
    exports: byId('ff-exports'),
  };
  let live = false;
  let lost = 0;
  let pending = [];
  let drawScheduled = false;
  let debounce;
  /** A filter change the gateway has not confirmed yet: frames shown meanwhile may follow the old one. */
  let applying = false;
  let filterSent = 0;
  /** The log's cursor for the next older page under the current filter; null: no older frames. */
  let cursor;
  let cursorFor = '';
  /** id → entry of the rows shown. */
  const shown = new Map();
  /** station\nleg\nmessageId → { call, answer } rows (tr) */
  const pairs = new Map();

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

  function logParams() {
    const f = filter();
    const params = new URLSearchParams();
    for (const id of f.chargeBoxIds ?? []) params.append('chargeBoxId', id);
    for (const a of f.actions ?? []) params.append('action', a);
    if (f.direction) params.set('direction', f.direction);
    if (f.leg) params.set('leg', f.leg);
    if (f.findingsOnly) params.set('hasFindings', 'true');
    return params;
  }

  function updateCount() {
    const n = el.rows.childElementCount;
    const state = !live ? ' · paused' : applying ? ' · applying filter…' : '';
    setText(el.count, `${n} ${n === 1 ? 'frame' : 'frames'} shown${lost > 0 ? `, ${lost} lost (this page read too slowly)` : ''}${state}`);
  }

  /** Links a request row and its answer row both ways once both are shown. */
  function pairUp(entry, tr) {
    const key = pairKey(entry);
    if (!key || !entry.messageType) return;
    const p = pairs.get(key) ?? {};
    if (entry.messageType === 'CALL') p.call = { entry, tr };
    else p.answer = { entry, tr };
    pairs.set(key, p);
    if (!p.call || !p.answer) return;
    const rtt = p.answer.entry.rttMs !== undefined ? ` in ${Math.round(p.answer.entry.rttMs)} ms` : '';
    p.call.tr.dataset.paired = String(p.answer.entry.id);
    p.answer.tr.dataset.paired = String(p.call.entry.id);
    p.call.tr.querySelector('.pair').replaceChildren(h('a', { href: `#frame-${p.answer.entry.id}` }, `answer: ${answerWords(p.answer.entry)}${rtt}`));
    p.answer.tr.querySelector('.pair').replaceChildren(h('a', { href: `#frame-${p.call.entry.id}` }, `request: ${p.call.entry.action ?? 'CALL'}`));
  }

  function forget(tr) {
    const entry = shown.get(tr.dataset.id);
    shown.delete(tr.dataset.id);
    const key = entry && pairKey(entry);
    if (key) pairs.delete(key);
    tr.remove();
  }

  function draw() {
    drawScheduled = false;
    const batch = pending;
    pending = [];
    const fragment = document.createDocumentFragment();
    const made = [];
    // Newest first: the batch arrived oldest first.
    for (let i = batch.length - 1; i >= 0; i--) {
      const tr = row(batch[i]);
      made.push([batch[i], tr]);
      fragment.append(tr);
    }
    el.rows.prepend(fragment);
    for (const [entry, tr] of made.reverse()) pairUp(entry, tr);
    while (el.rows.childElementCount > MAX_ROWS) forget(el.rows.lastElementChild);
    updateCount();
  }

  function add(entry) {
    const key = String(entry.id);
    if (shown.has(key)) return;
    shown.set(key, entry);
    pending.push(entry);
    if (!drawScheduled) {
      drawScheduled = true;
      requestAnimationFrame(draw);
    }
  }

  /** Sends the filter (or stops the stream) and says "applying filter…" until the gateway confirms. */
  function sendFilter() {
    const sent = ++filterSent;
    applying = live;
    updateCount();
    void connection.setFrameFilter(live ? filter() : undefined).then(() => {
      if (sent !== filterSent) return;
      applying = false;
      updateCount();
    });
  }

  function setLive(on) {
    live = on;
    el.live.setAttribute('aria-pressed', on ? 'true' : 'false');
    el.live.textContent = on ? 'Pause stream' : 'Start stream';
    clearTimeout(debounce);
    sendFilter();
  }

  const authHeaders = () => ({ Authorization: `Bearer ${getToken() ?? ''}` });

  /** The next older page of the log under the current filter, below what the table holds. */
  async function loadEarlier() {
    const params = logParams();
    const key = params.toString();
    if (key !== cursorFor) {
      cursor = undefined;
      cursorFor = key;
    }
    if (cursor === null) {
      setText(el.note, 'The message log holds no earlier frames for this filter.');
      return;
    }
    params.set('limit', String(PAGE));
    if (cursor) params.set('cursor', cursor);
    setText(el.note, 'Reading the message log…');
    try {
      const res = await fetch(`api/messages?${params}`, { headers: authHeaders() });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
      cursor = body.nextCursor ?? null;
      const entries = (body.entries ?? []).filter((e) => !shown.has(String(e.id)));
      // The log answers newest first; rows go below what the live stream already shows.
      const fragment = document.createDocumentFragment();
      const made = [];
      for (const e of entries) {
        shown.set(String(e.id), e);
        const tr = row(e);
        made.push([e, tr]);
        fragment.append(tr);
      }
      el.rows.append(fragment);
      for (const [e, tr] of made) pairUp(e, tr);
      setText(el.note, `${entries.length} earlier frames read from the message log${cursor === null ? ' (no more)' : ''}.`);
      updateCount();
    } catch (err) {
      setText(el.note, `Could not read the message log: ${err.message}`);
    }
  }

  /** Downloads the log under the current filter: fetched with the token in a header, saved from a Blob. */
  async function exportLog(format) {
    const params = logParams();
    params.set('format', format);
    if (format === 'json') params.set('limit', String(EXPORT_JSON_LIMIT));
    setText(el.note, `Exporting the message log as ${format}…`);
    try {
      const res = await fetch(`api/messages?${params}`, { headers: authHeaders() });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
      }
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `messages-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setText(el.note, `Exported ${blob.size} bytes as ${format}${format === 'json' ? ` (the newest ${EXPORT_JSON_LIMIT} frames; jsonl and csv hold all)` : ''}.`);
    } catch (err) {
      setText(el.note, `Could not export the message log: ${err.message}`);
    }
  }

  el.form.addEventListener('submit', (ev) => ev.preventDefault());
  el.form.addEventListener('input', (ev) => {
    if (ev.target === el.live) return;
    clearTimeout(debounce);
    if (!live) return;
    applying = true;
    updateCount();
    debounce = setTimeout(sendFilter, FILTER_DEBOUNCE_MS);
  });
  el.live.addEventListener('click', () => setLive(!live));
  el.clear.addEventListener('click', () => {
    el.rows.replaceChildren();
    shown.clear();
    pairs.clear();
    cursor = undefined;
    lost = 0;
    updateCount();
  });
  el.load.addEventListener('click', () => void loadEarlier());
  el.exports.addEventListener('click', (ev) => {
    const format = ev.target.closest?.('button[data-format]')?.dataset.format;
    if (format) void exportLog(format);
  });

  /**
   * Shows one frame of the log (a test verdict's evidence): its row when shown, else read from the log by its
   * station and time and put in its place (newest first). Scrolls to it and focuses it.
   */
  async function reveal({ id, time, chargeBoxId }) {
    let tr = document.getElementById(`frame-${id}`);
    if (!tr) {
      const params = new URLSearchParams({ chargeBoxId, since: time, until: time, limit: '50' });
      try {
        const res = await fetch(`api/messages?${params}`, { headers: authHeaders() });
        const body = await res.json().catch(() => ({}));
        if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
        const entry = (body.entries ?? []).find((e) => e.id === id);
        if (!entry) throw new Error(`frame ${id} is no longer in the message log`);
        while (el.rows.childElementCount >= MAX_ROWS) forget(el.rows.lastElementChild);
        shown.set(String(id), entry);
        tr = row(entry);
        el.rows.insertBefore(tr, [...el.rows.children].find((r) => Number(r.dataset.id) < id) ?? null);
        pairUp(entry, tr);
        updateCount();
      } catch (err) {
        setText(el.note, `Could not show frame ${id}: ${err.message}`);
        return false;
      }
    }
    tr.tabIndex = -1;
    tr.scrollIntoView({ block: 'center' });
    tr.focus();
    return true;
  }

  return {
    reveal,
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
    /** The station filter offers the stations the page knows (up to a few hundred; typing filters the rest). */
    refreshStations() {
      const ids = knownStations().slice(0, 500);
      if (el.stations.childElementCount === ids.length && el.stations.lastElementChild?.value === ids.at(-1)) return;
      el.stations.replaceChildren(...ids.map((id) => h('option', { value: id })));
    },
    start() {
      setLive(true);
    },
  };
}
