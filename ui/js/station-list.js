// The fleet table: search, filters, sort and counts by status over every station, drawn virtualised (only the
// rows in view, plus a few, are in the DOM) so 1,000 stations cost what 20 do. Rows are buttons in a list:
// Tab reaches the list, arrow keys / Home / End / Page keys move through all stations, Enter selects.
import { byId, h, setText } from './dom.js';
import { NONE } from './format.js';
import { fleetView, isCharging, stationStatus, upstreamOf } from './ops/fleet-filter.js';
import { statusClass } from './status-colors.js';

/** Must match .fleet-row's height in style.css. */
const ROW_PX = 52;
const OVERSCAN = 6;
const REFILTER_MS = 250;
const FEW = 5;
const LINK_TEXT = { ws: 'WebSocket', serial: 'USB serial', sim: 'simulated' };

function row(st, selected, onSelect) {
  const s = st.summary;
  const soc = typeof s?.soc === 'number' ? `${s.soc.toFixed(0)} %` : NONE;
  const status = stationStatus(st);
  const tx = st.openTx.length > 0 ? `tx #${st.openTx[0].transactionId ?? '?'}` : null;
  const upstream = upstreamOf(st) ?? st.upstream;
  const link = [LINK_TEXT[st.linkKind] ?? st.linkKind, upstream ? `upstream ${upstream}` : null].filter(Boolean).join(' · ');
  return h(
    'button',
    { type: 'button', class: 'station-card fleet-row', 'aria-current': selected ? 'true' : undefined, 'data-station': st.id, onclick: () => onSelect(st.id) },
    h('span', { class: `dot ${st.online ? 'online' : 'offline'}`, 'aria-hidden': 'true' }),
    h('span', { class: 'fr-main' },
      h('span', { class: 'card-id' }, st.id),
      h('span', { class: 'fr-sub' }, [s?.model, link || null, tx].filter(Boolean).join(' · ') || 'no details yet'),
    ),
    h('span', { class: `chip ${statusClass(status === 'Offline' ? 'Unavailable' : status)}` }, status),
    h('span', { class: 'card-soc' }, h('span', { class: 'sr-only' }, 'SOC '), soc),
    st.findings > 0 ? h('span', { class: 'fr-findings', title: 'findings seen by this page' }, `${st.findings} ⚑`, h('span', { class: 'sr-only' }, ' findings')) : h('span', { class: 'fr-findings' }),
  );
}

export function createStationList(listEl, emptyEl, onSelect) {
  const el = {
    viewport: byId('fleet-viewport'),
    form: byId('fleet-filters'),
    text: byId('fl-text'),
    status: byId('fl-status'),
    link: byId('fl-link'),
    upstream: byId('fl-upstream'),
    findings: byId('fl-findings'),
    charging: byId('fl-charging'),
    sort: byId('fl-sort'),
    counts: byId('fleet-counts'),
    shownText: byId('fleet-shown'),
  };
  /** id → { li, selected } for the rows now in the DOM. */
  const rows = new Map();
  let all = [];
  let shown = [];
  let selectedId;
  let dirtyIds = new Set();
  let everything = true;
  let drawScheduled = false;
  let countsKey = '';
  let lastCount = -1;
  let refilterTimer;

  const filter = () => ({
    text: el.text.value,
    status: el.status.value,
    linkKind: el.link.value,
    upstream: el.upstream.value,
    findings: el.findings.value,
    charging: el.charging.value,
  });

  function drawCounts(counts) {
    const entries = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const key = `${el.status.value}|${entries.map(([k, v]) => `${k}:${v}`).join(',')}`;
    if (key === countsKey) return;
    countsKey = key;
    el.counts.replaceChildren(
      ...entries.map(([status, n]) =>
        h('li', {}, h('button', {
          type: 'button',
          class: `count-chip chip ${statusClass(status === 'Offline' ? 'Unavailable' : status)}`,
          'aria-pressed': el.status.value === status ? 'true' : 'false',
          onclick: () => {
            el.status.value = el.status.value === status ? 'any' : status;
            refilter();
          },
        }, `${status} ${n}`)),
      ),
    );
  }

  /** Puts the rows of the visible window in the DOM; rows that stay are kept unless their station changed. */
  function draw() {
    drawScheduled = false;
    listEl.style.height = `${shown.length * ROW_PX}px`;
    const top = el.viewport.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
    const last = Math.min(shown.length, Math.ceil((top + el.viewport.clientHeight) / ROW_PX) + OVERSCAN);
    const focused = document.activeElement?.dataset?.station;
    const want = new Set();
    for (let i = first; i < last; i++) want.add(shown[i].id);
    for (const [id, r] of rows) {
      if (!want.has(id)) {
        r.li.remove();
        rows.delete(id);
      }
    }
    for (let i = first; i < last; i++) {
      const st = shown[i];
      const selected = st.id === selectedId;
      let r = rows.get(st.id);
      if (!r) {
        r = { li: h('li', { class: 'fleet-item' }), selected: undefined };
        rows.set(st.id, r);
        listEl.append(r.li);
        r.selected = !selected; // forces the first fill below
      }
      if (everything || r.selected !== selected || dirtyIds.has(st.id) || r.li.childElementCount === 0) {
        r.li.replaceChildren(row(st, selected, onSelect));
        r.selected = selected;
      }
      r.li.style.transform = `translateY(${i * ROW_PX}px)`;
      r.li.setAttribute('aria-posinset', String(i + 1));
      r.li.setAttribute('aria-setsize', String(shown.length));
    }
    dirtyIds = new Set();
    everything = false;
    // Redrawing must not steal keyboard focus from the row the user is on.
    if (focused && document.activeElement?.dataset?.station !== focused) listEl.querySelector(`[data-station="${CSS.escape(focused)}"]`)?.focus();
  }

  function scheduleDraw() {
    if (drawScheduled) return;
    drawScheduled = true;
    requestAnimationFrame(draw);
  }

  function refilter() {
    const view = fleetView(all, filter(), el.sort.value);
    shown = view.shown;
    drawCounts(view.counts);
    const charging = all.filter(isCharging).length;
    setText(el.shownText, `${shown.length} of ${all.length} stations shown · ${charging} charging`);
    emptyEl.hidden = all.length > 0;
    // A handful of stations (a viewer's token, a small bench) needs no search and filters; a filter in use stays.
    const few = all.length <= FEW && [el.text, el.status, el.link, el.upstream, el.findings, el.charging].every((c) => c.value === '' || c.value === 'any');
    el.form.hidden = few;
    el.counts.hidden = few;
    scheduleDraw();
  }

  /** Moves keyboard focus to the station at `index` of the filtered order, scrolling it into view. */
  function focusIndex(index) {
    if (shown.length === 0) return;
    const i = Math.max(0, Math.min(shown.length - 1, index));
    const y = i * ROW_PX;
    if (y < el.viewport.scrollTop) el.viewport.scrollTop = y;
    else if (y + ROW_PX > el.viewport.scrollTop + el.viewport.clientHeight) el.viewport.scrollTop = y + ROW_PX - el.viewport.clientHeight;
    draw();
    listEl.querySelector(`[data-station="${CSS.escape(shown[i].id)}"]`)?.focus();
  }

  listEl.addEventListener('keydown', (ev) => {
    const id = document.activeElement?.dataset?.station;
    if (!id) return;
    const at = shown.findIndex((st) => st.id === id);
    const page = Math.max(1, Math.floor(el.viewport.clientHeight / ROW_PX) - 1);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: shown.length - 1, PageDown: at + page, PageUp: at - page }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    focusIndex(to);
  });
  el.viewport.addEventListener('scroll', scheduleDraw, { passive: true });
  el.form.addEventListener('submit', (ev) => ev.preventDefault());
  el.form.addEventListener('input', () => {
    everything = true;
    refilter();
  });

  return {
    /** Redraws the rows in `dirty` (all when undefined); filters, counts and order follow every change. */
    render(stations, selected, dirty) {
      all = stations;
      if (selected !== selectedId) everything = true;
      selectedId = selected;
      if (dirty) for (const id of dirty) dirtyIds.add(id);
      else everything = true;
      // Visible rows redraw on the next frame; filters, order and counts follow data at most REFILTER_MS apart
      // (at 1,000 stations updating every second, refiltering every frame is the page's biggest cost).
      if (everything || stations.length !== lastCount) {
        lastCount = stations.length;
        clearTimeout(refilterTimer);
        refilterTimer = undefined;
        refilter();
        return;
      }
      scheduleDraw();
      refilterTimer ??= setTimeout(() => {
        refilterTimer = undefined;
        refilter();
      }, REFILTER_MS);
    },
    /** Scrolls the selected station into view (after a selection from elsewhere, e.g. the URL). */
    reveal(id) {
      const i = shown.findIndex((st) => st.id === id);
      if (i >= 0 && (i * ROW_PX < el.viewport.scrollTop || (i + 1) * ROW_PX > el.viewport.scrollTop + el.viewport.clientHeight)) {
        el.viewport.scrollTop = Math.max(0, i * ROW_PX - el.viewport.clientHeight / 2);
        scheduleDraw();
      }
    },
  };
}
