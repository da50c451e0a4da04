// The live station list: one card per station with online state, each connector's status, model and SOC.
import { h } from './dom.js';
import { NONE } from './format.js';
import { statusClass } from './status-colors.js';

function connectorChips(st) {
  const guns = [...st.connectors.values()].filter((c) => c.connectorId > 0).sort((a, b) => a.connectorId - b.connectorId);
  if (guns.length === 0) {
    const status = st.summary?.status;
    return status ? [h('li', { class: `chip ${statusClass(status)}` }, `${st.summary.connectorId}: ${status}`)] : [h('li', { class: 'chip st-unknown' }, 'no status yet')];
  }
  return guns.map((c) => h('li', { class: `chip ${statusClass(c.status)}`, title: c.errorCode && c.errorCode !== 'NoError' ? c.errorCode : undefined }, `${c.connectorId}: ${c.status}`));
}

function card(st, selected, onSelect) {
  const s = st.summary;
  const soc = typeof s?.soc === 'number' ? `${s.soc.toFixed(0)} %` : NONE;
  return h(
    'li',
    {},
    h(
      'button',
      { type: 'button', class: 'station-card', 'aria-current': selected ? 'true' : undefined, 'data-station': st.id, onclick: () => onSelect(st.id) },
      h('span', { class: 'card-head' },
        h('span', { class: `dot ${st.online ? 'online' : 'offline'}`, 'aria-hidden': 'true' }),
        h('span', { class: 'card-id' }, st.id),
        h('span', { class: 'sr-only' }, st.online ? ', online' : ', offline'),
        h('span', { class: 'card-soc', 'aria-label': `SOC ${soc}` }, soc),
      ),
      h('span', { class: 'card-sub' }, [s?.model ?? 'model unknown', st.openTx.length > 0 ? `tx #${st.openTx[0].transactionId ?? '?'}` : null].filter(Boolean).join(' · ')),
      h('ul', { class: 'chips', 'aria-label': 'Connectors' }, connectorChips(st)),
    ),
  );
}

export function createStationList(listEl, emptyEl, onSelect) {
  const items = new Map(); // id → { li, selected }
  let order = '';

  return {
    /** Redraws the cards in `dirty` (all when undefined) and keeps the others as they are. */
    render(stations, selectedId, dirty) {
      const focused = document.activeElement?.dataset?.station;
      const ids = stations.map((st) => st.id);
      for (const id of items.keys()) if (!ids.includes(id)) items.delete(id);
      for (const st of stations) {
        const selected = st.id === selectedId;
        const known = items.get(st.id);
        if (known && known.selected === selected && dirty && !dirty.has(st.id)) continue;
        const li = card(st, selected, onSelect);
        if (known) known.li.replaceWith(li);
        items.set(st.id, { li, selected });
      }
      if (ids.join('\n') !== order || listEl.childElementCount !== ids.length) {
        order = ids.join('\n');
        listEl.replaceChildren(...ids.map((id) => items.get(id).li));
      }
      emptyEl.hidden = stations.length > 0;
      // Redrawing must not steal keyboard focus from the card the user is on.
      if (focused && document.activeElement?.dataset?.station !== focused) listEl.querySelector(`[data-station="${CSS.escape(focused)}"]`)?.focus();
    },
  };
}
