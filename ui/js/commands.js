// Operator commands: Remote Start / Remote Stop as Socket.IO `call`s, with the station's answer (or the
// gateway's timeout, refusal, or which side dropped the link) shown next to the buttons.
import { byId, h } from './dom.js';
import { clock } from './format.js';

const LOG_LIMIT = 8;

/** Who dropped the link while a call waited (the gateway's `disconnected` outcome). */
const DROPPED = {
  station: 'the station disconnected before answering',
  upstream: 'the central system connection closed before the station answered',
  gateway: 'the gateway closed the station link before it answered',
};

/** How a call ended, in one line, with a kind for colour: good | warning | alert. */
export function describeCallResult(action, ack, ms) {
  const took = `${ms} ms`;
  if (!ack.ok) {
    const { code, message } = ack.error;
    if (code === 'not_connected') return { kind: 'alert', text: `${action} not sent: the station is not connected to the gateway.` };
    if (code === 'forbidden') return { kind: 'alert', text: `${action} not sent: your token is not an operator token.` };
    if (code === 'unauthorized') return { kind: 'alert', text: `${action} not sent: your token has expired.` };
    if (code === 'too_large') return { kind: 'alert', text: `${action} not sent: ${message}` };
    return { kind: 'alert', text: `${action} not sent (${code}): ${message}` };
  }
  const o = ack.outcome;
  if (o.kind === 'disconnected') return { kind: 'alert', text: `${action}: ${DROPPED[o.side] ?? 'the link closed before the station answered'} (${o.reason}).` };
  if (o.kind === 'timeout') return { kind: 'alert', text: `${action}: no answer from the station (timed out after ${took}).` };
  if (o.kind === 'error') return { kind: 'alert', text: `${action}: station answered with error ${o.code}${o.description ? ` — ${o.description}` : ''} (${took}).` };
  const status = o.payload && typeof o.payload === 'object' ? o.payload.status : undefined;
  if (status === 'Accepted') return { kind: 'good', text: `${action}: Accepted by the station (${took}).` };
  if (typeof status === 'string') return { kind: 'warning', text: `${action}: ${status} by the station (${took}).` };
  return { kind: 'warning', text: `${action}: station answered ${JSON.stringify(o.payload)} (${took}).` };
}

export function createCommands({ call }) {
  const el = {
    panel: byId('commands'),
    startForm: byId('remote-start'),
    connector: byId('rs-connector'),
    idTag: byId('rs-idtag'),
    stopForm: byId('remote-stop'),
    txId: byId('rs-txid'),
    result: byId('call-result'),
    log: byId('call-log'),
  };
  let station;
  let stationId;
  let txEdited = false;
  let busy = false;

  const setBusy = (value) => {
    busy = value;
    for (const b of el.panel.querySelectorAll('button')) b.disabled = value;
    el.panel.setAttribute('aria-busy', value ? 'true' : 'false');
  };

  async function run(action, payload) {
    if (busy || !stationId) return;
    setBusy(true);
    el.result.className = 'call-result pending';
    el.result.textContent = `${action} sent to ${stationId}; waiting for the station…`;
    const t0 = performance.now();
    const ack = await call(stationId, action, payload);
    const r = describeCallResult(action, ack, Math.round(performance.now() - t0));
    el.result.className = `call-result ${r.kind}`;
    el.result.textContent = r.text;
    el.log.prepend(h('li', { class: `feed-${r.kind}` }, h('time', {}, clock(new Date().toISOString())), ` ${stationId}: ${r.text}`));
    while (el.log.childElementCount > LOG_LIMIT) el.log.lastElementChild.remove();
    setBusy(false);
  }

  el.txId.addEventListener('input', () => {
    txEdited = el.txId.value !== '';
  });

  el.startForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const idTag = el.idTag.value.trim();
    if (idTag === '' || idTag.length > 20) {
      el.result.className = 'call-result alert';
      el.result.textContent = 'idTag must be 1 to 20 characters (OCPP IdToken).';
      el.idTag.focus();
      return;
    }
    void run('RemoteStartTransaction', { connectorId: Number(el.connector.value), idTag });
  });

  el.stopForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = Number(el.txId.value);
    if (!Number.isInteger(id) || el.txId.value.trim() === '') {
      el.result.className = 'call-result alert';
      el.result.textContent = 'Enter the transaction id to stop (no open transaction is known).';
      el.txId.focus();
      return;
    }
    void run('RemoteStopTransaction', { transactionId: id });
  });

  return {
    setVisible(visible) {
      el.panel.hidden = !visible;
    },
    /** connectorId: the connector the SOC screen shows; Remote Stop offers its open transaction. */
    render(st, connectorId = st?.summary?.connectorId) {
      station = st;
      if (!st) return;
      if (st.id !== stationId) {
        stationId = st.id;
        txEdited = false;
        el.result.textContent = '';
        el.result.className = 'call-result';
      }
      const ids = [...station.connectors.keys()].filter((id) => id > 0).sort((a, b) => a - b);
      if (ids.length === 0) ids.push(st.summary?.connectorId ?? 1);
      const want = ids.map(String).join(',');
      if ([...el.connector.options].map((o) => o.value).join(',') !== want) {
        const keep = el.connector.value;
        el.connector.replaceChildren(...ids.map((id) => h('option', { value: String(id) }, `Connector ${id}`)));
        if (ids.map(String).includes(keep)) el.connector.value = keep;
      }
      const open = st.openTx.find((t) => t.connectorId === connectorId) ?? st.openTx[0];
      if (!txEdited) el.txId.value = open?.transactionId !== undefined ? String(open.transactionId) : '';
    },
  };
}
