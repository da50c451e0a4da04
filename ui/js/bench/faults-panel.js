// @ts-check
// Fault injection for the selected station (REST /api/stations/:id/faults, operators): the active rules with who
// set them, until when and what they did so far; a form for a new rule whose fields follow its kind; remove one or
// all. A refused rule names its field, which gets the focus. No push event carries rule changes, so the list is
// read again while the screen is shown (its counters move with every matching frame).
import { byId, h, setText } from '../dom.js';
import { clock } from '../format.js';
import { api, relative, say, whileShown } from './bench-api.js';

const REFRESH_MS = 5000;

/** Answer kinds of an `answer` rule: the hint under the value and its default. */
const ANSWERS = {
  idTagStatus: ['Accepted, Invalid, Blocked, Expired or ConcurrentTx', 'Blocked'],
  bootStatus: ['Accepted, Pending or Rejected', 'Rejected'],
  callError: ['a CALLERROR code, e.g. InternalError, NotSupported', 'InternalError'],
  none: ['nothing: the station gets no answer', ''],
  result: ['the CALLRESULT payload as JSON', '{}'],
};

const DIRECTIONS = { both: 'both directions', toUpstream: 'station → central system', toStation: 'central system → station' };

/** What a rule does, in one line. @param {any} spec */
export function describeRule(spec) {
  const filter = [
    spec.direction ? DIRECTIONS[spec.direction] ?? spec.direction : '',
    spec.actions ? spec.actions.join(', ') : spec.kind === 'upstreamDown' || spec.kind === 'cut' ? '' : 'all actions',
    spec.messageTypes ? spec.messageTypes.join('/') : '',
    spec.rate !== undefined && spec.rate !== 1 ? `rate ${spec.rate}` : '',
    spec.seed !== undefined ? `seed ${spec.seed}` : '',
  ].filter(Boolean);
  const d = spec.delay;
  const what = {
    drop: 'drop',
    delay: `delay ${d?.ms !== undefined ? `${d.ms} ms` : d?.min !== undefined ? `${d.min}–${d.max} ms` : `${d?.mean} ± ${d?.sd} ms`}`,
    duplicate: `duplicate ×${spec.copies}`,
    reorder: `reorder (window ${spec.window}, hold ≤ ${spec.maxHoldMs} ms)`,
    corrupt: `corrupt (${spec.mode})`,
    stall: 'stall (held, released when the rule ends)',
    upstreamDown: spec.mode === 'close' ? 'upstream closed (station refused with 1013)' : 'upstream silent',
    answer: `answer ${spec.mode === 'replace' ? 'replaced' : 'instead of the upstream'}: ${JSON.stringify(spec.answer)}`,
    cut: `cut the link (${spec.abrupt ? 'abrupt' : `close ${spec.code}`})`,
  }[spec.kind] ?? spec.kind;
  return [what, ...filter].join(' · ');
}

/** @param {{ getToken: () => string | null | undefined }} deps */
export function createFaultsPanel({ getToken }) {
  const el = {
    rules: byId('fi-rules'),
    empty: byId('fi-empty'),
    refresh: byId('fi-refresh'),
    clearAll: /** @type {HTMLButtonElement} */ (byId('fi-clear-all')),
    form: /** @type {HTMLFormElement} */ (byId('fi-form')),
    kind: /** @type {HTMLSelectElement} */ (byId('fi-kind')),
    answer: /** @type {HTMLSelectElement} */ (byId('fi-answer')),
    answerValue: /** @type {HTMLInputElement} */ (byId('fi-answer-value')),
    answerHint: byId('fi-answer-hint'),
    actionsReq: byId('fi-actions-req'),
    result: byId('fi-result'),
  };
  /** @param {string} id */
  const input = (id) => /** @type {HTMLInputElement} */ (byId(id));
  /** @type {string | undefined} */
  let stationId;
  let reading = false;

  const base = () => `api/stations/${encodeURIComponent(stationId ?? '')}/faults`;

  function showKindFields() {
    const kind = el.kind.value;
    for (const field of el.form.querySelectorAll('[data-kinds]')) {
      /** @type {HTMLElement} */ (field).hidden = !(field.getAttribute('data-kinds') ?? '').split(' ').includes(kind);
    }
    setText(el.actionsReq, kind === 'answer' ? '(comma list, required)' : '(comma list; empty: all)');
  }

  function showAnswerHint() {
    const [hint, value] = ANSWERS[/** @type {keyof typeof ANSWERS} */ (el.answer.value)] ?? ANSWERS.idTagStatus;
    setText(el.answerHint, `(${hint})`);
    el.answerValue.value = value;
    el.answerValue.disabled = el.answer.value === 'none';
  }

  /** @param {string} id */
  const numberOf = (id) => (input(id).value.trim() === '' ? undefined : Number(input(id).value));

  /** The rule the form describes, as the REST body; throws with a field name when the JSON payload is bad. */
  function body() {
    const kind = el.kind.value;
    const visible = (/** @type {string} */ id) => !(/** @type {HTMLElement} */ (input(id).closest('[data-kinds]'))?.hidden ?? true);
    /** @type {Record<string, unknown>} */
    const rule = { kind };
    const set = (/** @type {string} */ key, /** @type {unknown} */ value) => {
      if (value !== undefined) rule[key] = value;
    };
    if (visible('fi-direction')) rule.direction = input('fi-direction').value;
    const actions = input('fi-actions').value.split(',').map((s) => s.trim()).filter(Boolean);
    if (visible('fi-actions') && actions.length > 0) rule.actions = actions;
    const types = [...el.form.querySelectorAll('input[name="fi-mt"]:checked')].map((c) => /** @type {HTMLInputElement} */ (c).value);
    if (visible('fi-direction') && types.length > 0) rule.messageTypes = types;
    if (visible('fi-rate')) set('rate', numberOf('fi-rate'));
    if (visible('fi-seed')) set('seed', numberOf('fi-seed'));
    if (kind === 'delay') set('delay', numberOf('fi-delay'));
    if (kind === 'duplicate') set('copies', numberOf('fi-copies'));
    if (kind === 'reorder') {
      set('window', numberOf('fi-window'));
      set('maxHoldMs', numberOf('fi-maxhold'));
    }
    if (kind === 'corrupt') rule.mode = input('fi-corrupt').value;
    if (kind === 'upstreamDown') rule.mode = input('fi-updown').value;
    if (kind === 'answer') {
      rule.mode = input('fi-answer-mode').value;
      const v = el.answerValue.value.trim();
      const a = el.answer.value;
      if (a === 'none') rule.answer = { none: true };
      else if (a === 'bootStatus') rule.answer = { bootStatus: v, interval: 60 };
      else if (a === 'callError') rule.answer = { callError: { code: v } };
      else if (a === 'result') {
        try {
          rule.answer = { result: JSON.parse(v || '{}') };
        } catch {
          throw Object.assign(new Error('answer: the payload is not valid JSON'), { field: 'answer' });
        }
      } else rule.answer = { idTagStatus: v };
    }
    if (kind === 'cut') {
      set('code', numberOf('fi-code'));
      rule.abrupt = input('fi-abrupt').checked;
    }
    if (visible('fi-duration')) set('durationS', numberOf('fi-duration'));
    if (visible('fi-persistent') && input('fi-persistent').checked) rule.persistent = true;
    return rule;
  }

  /** The form control a refused field points at. @param {string} field */
  function controlFor(field) {
    const top = field.split('.')[0];
    const kind = el.kind.value;
    const ids = {
      kind: 'fi-kind', direction: 'fi-direction', actions: 'fi-actions', rate: 'fi-rate', seed: 'fi-seed', delay: 'fi-delay',
      copies: 'fi-copies', window: 'fi-window', maxHoldMs: 'fi-maxhold', answer: 'fi-answer-value', code: 'fi-code', abrupt: 'fi-abrupt',
      durationS: 'fi-duration', until: 'fi-duration', persistent: 'fi-persistent',
      mode: kind === 'corrupt' ? 'fi-corrupt' : kind === 'upstreamDown' ? 'fi-updown' : 'fi-answer-mode',
    };
    if (top === 'messageTypes') return /** @type {HTMLElement | null} */ (el.form.querySelector('input[name="fi-mt"]'));
    const id = ids[/** @type {keyof typeof ids} */ (top)];
    return id ? input(id) : null;
  }

  /** @param {any} rule */
  function ruleItem(rule) {
    const expires = rule.expiresAt ? `ends ${relative(rule.expiresAt)}` : rule.persistent ? 'until cleared' : 'until cleared or the station disconnects';
    return h(
      'li',
      { class: 'bench-item', 'data-rule': rule.id },
      h('div', { class: 'grow' },
        h('strong', {}, describeRule(rule.spec)),
        h('p', { class: 'hint' }, `${rule.id} · set by ${rule.setBy} at ${clock(rule.setAt)} · ${expires}${rule.persistent ? ' · kept across reconnects' : ''} · matched ${rule.matched}, acted on ${rule.acted}`),
      ),
      h('button', { type: 'button', class: 'secondary small', 'data-clear': rule.id, 'aria-label': `Remove rule ${rule.id} (${rule.spec.kind})` }, 'Remove'),
    );
  }

  async function read() {
    if (!stationId || reading) return;
    reading = true;
    const id = stationId;
    const r = await api(getToken, 'GET', base());
    reading = false;
    if (id !== stationId) return;
    if (!r.ok) {
      say(el.result, 'alert', `Could not read the rules: ${r.message}`);
      return;
    }
    const rules = r.body.rules ?? [];
    el.rules.replaceChildren(...rules.map(ruleItem));
    el.empty.hidden = rules.length > 0;
    el.clearAll.disabled = rules.length === 0;
  }

  /** @param {string} [ruleId] */
  async function clear(ruleId) {
    const r = await api(getToken, 'DELETE', ruleId ? `${base()}/${encodeURIComponent(ruleId)}` : base());
    if (r.ok) say(el.result, 'good', ruleId ? `Rule ${ruleId} removed.` : `${r.body?.removed ?? 0} rules removed.`);
    else say(el.result, 'alert', `Not removed: ${r.message}`);
    await read();
    if (ruleId) /** @type {HTMLElement} */ (el.rules.querySelector('button') ?? el.kind).focus();
  }

  el.kind.addEventListener('change', showKindFields);
  el.answer.addEventListener('change', showAnswerHint);
  el.refresh.addEventListener('click', () => void read());
  el.clearAll.addEventListener('click', () => void clear());
  el.rules.addEventListener('click', (ev) => {
    const ruleId = /** @type {HTMLElement} */ (ev.target).closest('[data-clear]')?.getAttribute('data-clear');
    if (ruleId) void clear(ruleId);
  });
  el.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!stationId) return;
    let rule;
    try {
      rule = body();
    } catch (err) {
      say(el.result, 'alert', `Rule not added: ${/** @type {Error} */ (err).message}`);
      controlFor('answer')?.focus();
      return;
    }
    say(el.result, 'pending', 'Adding the rule…');
    const r = await api(getToken, 'POST', base(), rule);
    if (r.ok) {
      say(el.result, 'good', `Rule ${r.body.id} added: ${describeRule(r.body.spec)}.`);
    } else {
      say(el.result, 'alert', `Rule not added: ${r.message}`);
      if (r.field) controlFor(r.field)?.focus();
    }
    await read();
  });
  showKindFields();
  showAnswerHint();

  const refresher = whileShown(() => void read(), REFRESH_MS);
  return {
    /** @param {string | undefined} id */
    setStation(id) {
      if (id === stationId) return;
      stationId = id;
      el.rules.replaceChildren();
      el.empty.hidden = false;
      setText(el.result, '');
      if (refresher.on) void read();
    },
    /** @param {boolean} on */
    setShown(on) {
      refresher.set(on);
    },
  };
}
