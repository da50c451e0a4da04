// @ts-check
// The embedded test central system's settings (REST /api/test-cs, operators): boot answer, heartbeat interval,
// the answer for unknown tags, DataTransfer / SignCertificate answers, and the tag store. With STEVE_WS_URL set the
// gateway relays to SteVe and refuses changes (409), so the form is shown read-only with the reason.
import { byId, h, setText } from '../dom.js';
import { api, say } from './bench-api.js';

/** @param {{ getToken: () => string | null | undefined }} deps */
export function createTestCsPanel({ getToken }) {
  const el = {
    mode: byId('cs-mode'),
    form: /** @type {HTMLFormElement} */ (byId('cs-form')),
    tagForm: /** @type {HTMLFormElement} */ (byId('cs-tag-form')),
    tags: byId('cs-tags'),
    tagsEmpty: byId('cs-tags-empty'),
    result: byId('cs-result'),
    overrides: byId('cs-overrides'),
  };
  /** @param {string} id */
  const input = (id) => /** @type {HTMLInputElement} */ (byId(id));
  /** The settings as last read (PUT replaces them whole, so unshown fields are sent back as they were). */
  /** @type {any} */
  let settings;
  let active = false;

  /** @param {Record<string, any>} tags */
  function drawTags(tags) {
    const entries = Object.entries(tags);
    el.tagsEmpty.hidden = entries.length > 0;
    el.tags.replaceChildren(
      ...entries.map(([id, t]) =>
        h('li', { class: 'bench-item', 'data-tag': id },
          h('span', { class: 'grow' }, h('strong', {}, id), ` · ${t.status}${t.expiryDate ? ` · expires ${new Date(t.expiryDate).toLocaleString()}` : ''}${t.parentIdTag ? ` · parent ${t.parentIdTag}` : ''}`),
          active ? h('button', { type: 'button', class: 'secondary small', 'data-remove': id, 'aria-label': `Remove tag ${id}` }, 'Remove') : null,
        ),
      ),
    );
  }

  /** @param {any} view the body of GET /api/test-cs */
  function draw(view) {
    settings = view.settings;
    active = view.active === true;
    setText(el.mode, active
      ? 'Embedded mode: stations without SteVe are answered by this test central system.'
      : 'The gateway relays to SteVe (STEVE_WS_URL is set): these settings answer nothing and cannot be changed here.');
    for (const control of [...el.form.elements, ...el.tagForm.elements]) /** @type {HTMLInputElement} */ (control).disabled = !active;
    input('cs-boot').value = settings.boot.status;
    input('cs-boot-interval').value = String(settings.boot.interval);
    input('cs-heartbeat').value = String(settings.heartbeatInterval);
    input('cs-unknown').value = settings.unknownTags;
    input('cs-datatransfer').value = settings.dataTransfer;
    input('cs-signcert').value = settings.signCertificate;
    drawTags(settings.tags ?? {});
    const overrides = view.overrides ?? [];
    setText(el.overrides, overrides.length > 0 ? `Test runs now answer ${overrides.map((/** @type {any} */ o) => o.chargeBoxId).join(', ')} with their own settings.` : '');
  }

  async function read() {
    const r = await api(getToken, 'GET', 'api/test-cs');
    if (r.ok) draw(r.body);
    else say(el.result, 'alert', `Could not read the test central system: ${r.message}`);
  }

  /** Focus for a refused field, e.g. `boot.interval`. @param {string | undefined} field */
  function focusField(field) {
    const ids = { 'boot.status': 'cs-boot', 'boot.interval': 'cs-boot-interval', heartbeatInterval: 'cs-heartbeat', unknownTags: 'cs-unknown', dataTransfer: 'cs-datatransfer', signCertificate: 'cs-signcert' };
    const id = field?.startsWith('tags') ? 'cs-tag-id' : ids[/** @type {keyof typeof ids} */ (field ?? '')];
    if (id) input(id).focus();
  }

  el.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!settings) return;
    const next = {
      ...settings,
      boot: { status: input('cs-boot').value, interval: Number(input('cs-boot-interval').value) },
      heartbeatInterval: Number(input('cs-heartbeat').value),
      unknownTags: input('cs-unknown').value,
      dataTransfer: input('cs-datatransfer').value,
      signCertificate: input('cs-signcert').value,
    };
    const r = await api(getToken, 'PUT', 'api/test-cs', next);
    if (r.ok) {
      draw(r.body);
      say(el.result, 'good', `Saved: boot ${r.body.settings.boot.status}, heartbeat every ${r.body.settings.heartbeatInterval} s.`);
    } else {
      say(el.result, 'alert', `Not saved: ${r.message}`);
      focusField(r.field);
    }
  });
  el.tagForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const id = input('cs-tag-id').value.trim();
    if (!id) {
      say(el.result, 'alert', 'Tag not added: the idTag is required.');
      input('cs-tag-id').focus();
      return;
    }
    const expiry = input('cs-tag-expiry').value;
    const parent = input('cs-tag-parent').value.trim();
    const entry = { status: input('cs-tag-status').value, ...(expiry ? { expiryDate: new Date(expiry).toISOString() } : {}), ...(parent ? { parentIdTag: parent } : {}) };
    const r = await api(getToken, 'PUT', `api/test-cs/tags/${encodeURIComponent(id)}`, entry);
    if (r.ok) say(el.result, 'good', `Tag ${id}: ${r.body.status}.`);
    else say(el.result, 'alert', `Tag not saved: ${r.message}`);
    await read();
  });
  el.tags.addEventListener('click', async (ev) => {
    const id = /** @type {HTMLElement} */ (ev.target).closest('[data-remove]')?.getAttribute('data-remove');
    if (!id) return;
    const r = await api(getToken, 'DELETE', `api/test-cs/tags/${encodeURIComponent(id)}`);
    say(el.result, r.ok ? 'good' : 'alert', r.ok ? `Tag ${id} removed.` : `Not removed: ${r.message}`);
    await read();
    input('cs-tag-id').focus();
  });

  return {
    /** @param {boolean} on */
    setShown(on) {
      if (on) void read();
    },
  };
}
