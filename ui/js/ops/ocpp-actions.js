// Every OCPP 1.6J action a central system sends to a station, as a form built from its request schema (read
// from GET /api/ocpp/schemas), checked in the page before sending, sent as a Socket.IO `call`, with the answer
// (as a JSON tree) and the round trip. Each connector offers its own actions, which fill the form for it.
import { byId, h, setText } from '../dom.js';
import { clock } from '../format.js';
import { describeCallResult } from '../commands.js';
import { jsonTree } from './json-tree.js';
import { checkSchema } from './schema-check.js';
import { buildSchemaForm } from './schema-form.js';

/** Actions offered on each connector (they take a connectorId). */
const PER_CONNECTOR = [
  ['UnlockConnector', 'Unlock'],
  ['ChangeAvailability', 'Availability'],
  ['TriggerMessage', 'Trigger'],
  ['RemoteStartTransaction', 'Start'],
  ['ReserveNow', 'Reserve'],
];

export function createOcppActions({ call, getToken }) {
  const el = {
    panel: byId('ocpp-actions'),
    connectors: byId('oa-connectors'),
    form: byId('oa-form'),
    action: byId('oa-action'),
    fields: byId('oa-fields'),
    send: byId('oa-send'),
    result: byId('oa-result'),
    answer: byId('oa-answer'),
    log: byId('oa-log'),
  };
  /** action → request schema */
  const schemas = new Map();
  let loading;
  let form;
  let stationId;
  let connectorsKey = '';
  let busy = false;

  const say = (kind, text) => {
    el.result.className = `call-result ${kind}`;
    setText(el.result, text);
  };

  async function load() {
    const res = await fetch('api/ocpp/schemas', { headers: { Authorization: `Bearer ${getToken() ?? ''}` } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    for (const { action, schema } of body.actions) schemas.set(action, schema);
    el.action.replaceChildren(...[...schemas.keys()].map((a) => h('option', { value: a }, a)));
    el.action.value = schemas.has('TriggerMessage') ? 'TriggerMessage' : el.action.value;
    showForm();
  }

  function showForm(defaults = {}) {
    const schema = schemas.get(el.action.value);
    if (!schema) return;
    form = buildSchemaForm(el.fields, schema, defaults);
  }

  /** Picks `action` with connectorId filled in, and moves focus to the form. */
  function prepare(action, connectorId) {
    if (!schemas.has(action)) return;
    el.action.value = action;
    showForm({ connectorId });
    say('', `${action} for connector ${connectorId}: fill in the rest and send.`);
    el.action.focus();
  }

  el.action.addEventListener('change', () => {
    showForm();
    say('', '');
  });

  el.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (busy || !form || !stationId) return;
    const action = el.action.value;
    const got = form.read();
    const problems = got.ok ? checkSchema(schemas.get(action), got.payload) : [got];
    if (problems.length > 0) {
      const p = problems[0];
      say('alert', `${action} not sent: ${p.path} ${p.message}.`);
      (p.input ?? form.input(p.path))?.focus();
      return;
    }
    busy = true;
    el.send.disabled = true;
    const target = stationId;
    say('pending', `${action} sent to ${target}; waiting for the station…`);
    const t0 = performance.now();
    const ack = await call(target, action, got.payload);
    const ms = Math.round(performance.now() - t0);
    const r = describeCallResult(action, ack, ms);
    say(r.kind, `${r.text} Round trip ${ms} ms.`);
    const answer = ack.ok ? (ack.outcome.kind === 'result' ? ack.outcome.payload : ack.outcome) : ack.error;
    el.answer.replaceChildren(jsonTree(answer, `${action} answer`));
    el.log.prepend(h('li', { class: `feed-${r.kind}` }, h('time', {}, clock(new Date().toISOString())), ` ${target}: ${r.text}`));
    while (el.log.childElementCount > 8) el.log.lastElementChild.remove();
    busy = false;
    el.send.disabled = false;
  });

  return {
    setVisible(visible) {
      el.panel.hidden = !visible;
      if (visible && !loading) {
        loading = load().catch((err) => {
          loading = undefined;
          say('alert', `Could not read the OCPP schemas: ${err.message}. Sign in again with an operator token.`);
        });
      }
    },
    render(st) {
      if (!st) return;
      if (st.id !== stationId) {
        stationId = st.id;
        say('', '');
        el.answer.replaceChildren();
      }
      const guns = [...st.connectors.values()].filter((c) => c.connectorId > 0).sort((a, b) => a.connectorId - b.connectorId);
      if (guns.length === 0) guns.push({ connectorId: st.summary?.connectorId ?? 1, status: st.summary?.status ?? 'unknown' });
      const key = `${st.id}|${guns.map((c) => `${c.connectorId}:${c.status}`).join(',')}`;
      if (key === connectorsKey) return;
      connectorsKey = key;
      el.connectors.replaceChildren(
        ...guns.map((c) =>
          h('li', { class: 'oa-connector' },
            h('span', { class: 'oa-connector-name' }, `Connector ${c.connectorId}`, h('span', { class: 'hint' }, ` ${c.status}`)),
            h('span', { class: 'actions' }, PER_CONNECTOR.map(([action, label]) =>
              h('button', { type: 'button', class: 'secondary small', 'aria-label': `${label} (${action}) on connector ${c.connectorId}`, onclick: () => prepare(action, c.connectorId) }, label),
            )),
          ),
        ),
      );
    },
  };
}
