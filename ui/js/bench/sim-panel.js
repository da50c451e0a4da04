// @ts-check
// Simulator controls (REST /api/sim, operators): for a simulated station, its connectors with plug in / unplug,
// present a tag, start / stop, set / clear a connector fault, plus drop the link, reboot and remove; and a form to
// add simulated stations. The station's status in the fleet and SOC screen follows from its own OCPP messages.
import { byId, h, setText } from '../dom.js';
import { api, say, whileShown } from './bench-api.js';

const REFRESH_MS = 5000;
/** The connector faults a simulated station can report (src/sim/spec.ts FAULT_CODES). */
const FAULT_CODES = [
  'ConnectorLockFailure', 'EVCommunicationError', 'GroundFailure', 'HighTemperature', 'InternalError', 'OtherError',
  'OverCurrentFailure', 'PowerMeterFailure', 'PowerSwitchFailure', 'ReaderFailure', 'UnderVoltage', 'OverVoltage', 'WeakSignal',
];

/**
 * @typedef {{ connectorId: number, status: string, errorCode: string, plugged: boolean, transactionId?: number, soc?: number }} SimConnector
 * @typedef {{ id: string, online: boolean, booted: boolean, powered: boolean, queued: number, connectors: SimConnector[] }} SimStation
 */

/** @param {{ getToken: () => string | null | undefined }} deps */
export function createSimPanel({ getToken }) {
  const el = {
    none: byId('sim-none'),
    station: byId('sim-station'),
    state: byId('sim-state'),
    connectors: byId('sim-connectors'),
    tag: /** @type {HTMLInputElement} */ (byId('sim-tag')),
    faultCode: /** @type {HTMLSelectElement} */ (byId('sim-fault-code')),
    drop: byId('sim-drop'),
    reboot: byId('sim-reboot'),
    remove: byId('sim-remove'),
    result: byId('sim-result'),
    add: byId('sim-add'),
  };
  /** @param {string} id */
  const input = (id) => /** @type {HTMLInputElement} */ (byId(id));
  /** @type {string | undefined} */
  let stationId;
  let removeArmed = false;

  el.faultCode.replaceChildren(...FAULT_CODES.map((c) => h('option', { value: c }, c)));
  el.faultCode.value = 'GroundFailure';

  const path = () => `api/sim/stations/${encodeURIComponent(stationId ?? '')}`;

  /** @param {SimConnector} c */
  function connectorItem(c) {
    const n = c.connectorId;
    /** @param {string} type @param {string} text @param {string} [cls] */
    const button = (type, text, cls = 'secondary small') => h('button', { type: 'button', class: cls, 'data-act': type, 'data-connector': String(n), 'aria-label': `${text} (connector ${n})` }, text);
    const faulted = c.status === 'Faulted';
    return h(
      'li',
      { class: 'bench-item', 'data-connector': String(n) },
      h('span', { class: 'grow' },
        h('strong', {}, `Connector ${n}`),
        ` · ${c.status}${faulted ? ` (${c.errorCode})` : ''} · ${c.plugged ? 'plugged in' : 'unplugged'}${c.transactionId !== undefined ? ` · transaction ${c.transactionId}` : ''}${c.soc !== undefined ? ` · SOC ${Math.round(c.soc)} %` : ''}`),
      h('span', { class: 'actions' },
        c.plugged ? button('plugOut', 'Unplug') : button('plugIn', 'Plug in'),
        button('presentTag', 'Present tag'),
        c.transactionId !== undefined ? button('stop', 'Stop') : button('start', 'Start'),
        faulted ? button('clearFault', 'Clear fault') : button('fault', 'Set fault', 'danger small'),
      ),
    );
  }

  async function read() {
    if (!stationId) return;
    const id = stationId;
    const r = await api(getToken, 'GET', path());
    if (id !== stationId) return;
    el.none.hidden = r.ok;
    el.station.hidden = !r.ok;
    if (!r.ok) {
      if (r.status !== 404) say(el.result, 'alert', `Could not read the simulator: ${r.message}`);
      return;
    }
    /** @type {SimStation} */
    const s = r.body;
    setText(el.state, `${s.id}: ${s.powered ? '' : 'powered off · '}${s.online ? 'online' : 'offline'}${s.booted ? ', booted' : ''}${s.queued > 0 ? ` · ${s.queued} messages queued` : ''}`);
    // Redrawn only when something changed, so a focused button survives the refresh.
    const key = JSON.stringify(s.connectors.map((c) => [c.status, c.errorCode, c.plugged, c.transactionId]));
    if (el.connectors.dataset.key !== key) {
      const focused = document.activeElement?.closest?.('[data-act]');
      const again = focused && el.connectors.contains(focused) ? `[data-connector="${focused.getAttribute('data-connector')}"]` : undefined;
      el.connectors.dataset.key = key;
      el.connectors.replaceChildren(...s.connectors.map(connectorItem));
      if (again) /** @type {HTMLElement | null} */ (el.connectors.querySelector(`button${again}`))?.focus();
    }
  }

  /** @param {Record<string, unknown>} action */
  async function act(action) {
    if (!stationId) return;
    say(el.result, 'pending', `${String(action.type)}…`);
    const { type, ...rest } = action;
    const r = await api(getToken, 'POST', `${path()}/actions/${encodeURIComponent(String(type))}`, rest);
    if (r.ok) say(el.result, 'good', `${String(type)}: done.`);
    else say(el.result, 'alert', `${String(type)} refused: ${r.body?.message ?? r.message}`);
    await read();
  }

  el.connectors.addEventListener('click', (ev) => {
    const b = /** @type {HTMLElement} */ (ev.target).closest('[data-act]');
    if (!b) return;
    const type = b.getAttribute('data-act') ?? '';
    const connectorId = Number(b.getAttribute('data-connector'));
    const tag = el.tag.value.trim();
    if (type === 'presentTag' || type === 'start') void act({ type, connectorId, ...(tag ? { idTag: tag } : {}) });
    else if (type === 'fault') void act({ type, connectorId, errorCode: el.faultCode.value });
    else void act({ type, connectorId });
  });
  el.drop.addEventListener('click', () => void act({ type: 'dropLink' }));
  el.reboot.addEventListener('click', () => void act({ type: 'reboot' }));
  el.remove.addEventListener('click', async () => {
    if (!removeArmed) {
      removeArmed = true;
      setText(el.remove, 'Remove: press again to confirm');
      return;
    }
    removeArmed = false;
    setText(el.remove, 'Remove the station');
    const r = await api(getToken, 'DELETE', path());
    if (r.ok) say(el.result, 'good', `${stationId} removed from the simulator.`);
    else say(el.result, 'alert', `Not removed: ${r.message}`);
    await read();
  });
  el.remove.addEventListener('blur', () => {
    removeArmed = false;
    setText(el.remove, 'Remove the station');
  });
  el.add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = input('sim-id').value.trim();
    const spec = {
      id,
      connectors: Number(input('sim-connectors-n').value || 1),
      autopilot: input('sim-autopilot').checked,
      vehicle: { model: input('sim-model').value, initialSoc: Number(input('sim-soc').value || 30) },
    };
    const r = await api(getToken, 'POST', 'api/sim/stations', spec);
    if (r.ok) say(el.result, 'good', `Simulated station ${id} added; it appears in the station list once it has connected.`);
    else {
      say(el.result, 'alert', `Station not added: ${r.message}`);
      input('sim-id').focus();
    }
  });

  const refresher = whileShown(() => void read(), REFRESH_MS);
  return {
    /** @param {string | undefined} id */
    setStation(id) {
      if (id === stationId) return;
      stationId = id;
      el.connectors.replaceChildren();
      delete el.connectors.dataset.key;
      setText(el.result, '');
      if (refresher.on) void read();
    },
    /** @param {boolean} on */
    setShown(on) {
      refresher.set(on);
    },
  };
}
