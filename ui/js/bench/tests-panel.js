// @ts-check
// Charger test runs on the selected station: pick a suite and cases, start a run (POST /api/stations/:id/tests),
// follow it from the `test` updates pushed over Socket.IO (`tests:subscribe`), answer its manual steps (done /
// skip, with the time left), read the verdict of each case with the message-log frames that prove it, and save the
// report as HTML, JUnit XML or JSON (fetched with the token in a header).
import { byId, h, setText } from '../dom.js';
import { clock } from '../format.js';
import { api, download, relative, say } from './bench-api.js';

const VERDICT_TEXT = { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive', not_applicable: 'not applicable' };
const FILE_EXT = { html: 'html', junit: 'xml', json: 'json' };
/** Evidence frames listed per case; the report holds them all. */
const MAX_EVIDENCE_SHOWN = 40;

/**
 * @typedef {{ logId: number, time: string, flow: string, messageType?: string, action?: string, raw: string }} Evidence
 * @typedef {{ name: string, title: string, verdict: keyof typeof VERDICT_TEXT, reason?: string, ms: number,
 *   steps: { index: number, label: string, ok: boolean, ms: number, detail?: string, logIds: number[] }[],
 *   evidence: Evidence[] }} CaseResult
 * @typedef {{ runId: string, chargeBoxId: string, suite: string, state: string, startedAt: string, timeScale: number,
 *   current?: { caseName: string, step: string }, ask?: { askId: string, caseName: string, prompt: string, until: string },
 *   queued: string[], summary: { total: number, pass: number, fail: number, inconclusive: number, not_applicable: number },
 *   cases?: CaseResult[] }} Report
 */

/**
 * @param {{ getToken: () => string | null | undefined,
 *   revealFrame: (frame: { id: number, time: string, chargeBoxId: string }) => Promise<boolean> }} deps
 */
export function createTestsPanel({ getToken, revealFrame }) {
  const el = {
    form: byId('ct-form'),
    suite: /** @type {HTMLSelectElement} */ (byId('ct-suite')),
    cases: byId('ct-cases'),
    start: /** @type {HTMLButtonElement} */ (byId('ct-start')),
    abort: byId('ct-abort'),
    result: byId('ct-result'),
    run: byId('ct-run'),
    title: byId('ct-run-title'),
    progress: /** @type {HTMLProgressElement} */ (byId('ct-progress')),
    line: byId('ct-line'),
    ask: byId('ct-ask'),
    askText: byId('ct-ask-text'),
    askLeft: byId('ct-ask-left'),
    askDone: byId('ct-ask-done'),
    askSkip: byId('ct-ask-skip'),
    summary: byId('ct-summary'),
    verdicts: byId('ct-verdicts'),
    reports: byId('ct-reports'),
    past: byId('ct-past'),
  };
  /** @type {{ suite: string, cases: { name: string, title: string }[] }[]} */
  let suites = [];
  /** @type {string | undefined} */
  let stationId;
  /** @type {Report | undefined} the run shown */
  let run;
  /** Case results of the run shown, by name (from its report, then from pushed `case` updates). */
  let results = new Map();
  let plannedTotal = 0;
  let suitesRead = false;
  let shown = false;
  /** Case results pushed while their run's report was being read (merged when it arrives). */
  const early = /** @type {{ runId: string, result: CaseResult }[]} */ ([]);
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let askTimer;
  /** @type {(NonNullable<Report['ask']> & { runId: string }) | undefined} the question on screen */
  let shownAsk;

  /** @param {string} path */
  const get = (path) => api(getToken, 'GET', path);

  async function readSuites() {
    const r = await get('api/test-suites');
    if (!r.ok) {
      say(el.result, 'alert', `Could not read the test suites: ${r.message}`);
      return;
    }
    suitesRead = true;
    suites = r.body.suites ?? [];
    el.suite.replaceChildren(...suites.map((s) => h('option', { value: s.suite }, `${s.suite} (${s.cases.length} cases)`)));
    showCases();
  }

  function showCases() {
    const suite = suites.find((s) => s.suite === el.suite.value);
    el.cases.replaceChildren(
      h('legend', {}, 'Cases (none ticked: the whole suite)'),
      ...(suite?.cases ?? []).map((c) =>
        h('label', { class: 'check case-pick' }, h('input', { type: 'checkbox', name: 'ct-case', value: c.name }), ` ${c.title} `, h('code', {}, c.name)),
      ),
    );
  }

  async function readPast() {
    const r = await get('api/tests');
    if (!r.ok) return;
    /** @type {Report[]} */
    const runs = (r.body.runs ?? []).filter((/** @type {Report} */ x) => !stationId || x.chargeBoxId === stationId).reverse();
    el.past.replaceChildren(
      ...runs.map((x) =>
        h('li', { class: 'bench-item' },
          h('span', { class: 'grow' }, `${x.runId} · ${x.suite} · ${x.state} · ${x.summary.pass} pass, ${x.summary.fail} fail, ${x.summary.inconclusive} inconclusive · started ${clock(x.startedAt)}`),
          h('button', { type: 'button', class: 'secondary small', 'data-run': x.runId, 'aria-label': `Show run ${x.runId}` }, 'Show'),
        ),
      ),
    );
    if (runs.length === 0) el.past.append(h('li', { class: 'hint' }, 'None for this station yet.'));
  }

  /** @param {string} runId */
  async function showRun(runId) {
    const r = await get(`api/tests/${encodeURIComponent(runId)}`);
    if (!r.ok) {
      say(el.result, 'alert', `Could not read run ${runId}: ${r.message}`);
      return;
    }
    /** @type {Report} */
    const report = r.body;
    results = new Map((report.cases ?? []).map((c) => [c.name, c]));
    for (const e of early) if (e.runId === runId && !results.has(e.result.name)) results.set(e.result.name, e.result);
    plannedTotal = results.size + report.queued.length + (report.state === 'running' && report.current && !results.has(report.current.caseName) ? 1 : 0);
    run = report;
    el.verdicts.replaceChildren(...[...results.values()].map((c) => verdictItem(c, report.chargeBoxId)));
    draw();
  }

  /** @param {CaseResult} c @param {string} chargeBoxId */
  function verdictItem(c, chargeBoxId) {
    const evidence = c.evidence.slice(-MAX_EVIDENCE_SHOWN);
    return h(
      'li',
      { class: `ct-case verdict-${c.verdict}`, 'data-case': c.name },
      h('p', { class: 'ct-case-head' },
        h('span', { class: `verdict-badge verdict-${c.verdict}` }, VERDICT_TEXT[c.verdict] ?? c.verdict),
        h('strong', {}, c.title), ' ', h('code', {}, c.name), ` · ${(c.ms / 1000).toFixed(1)} s`),
      c.reason ? h('p', { class: 'ct-reason' }, c.reason) : null,
      h('details', {},
        h('summary', {}, `Steps (${c.steps.length}) and frames (${c.evidence.length})`),
        h('ol', { class: 'ct-steps' }, c.steps.map((s) => h('li', {}, `${s.ok ? '✓' : '✗'} ${s.label}${s.detail ? ` — ${s.detail}` : ''} (${s.ms} ms)`))),
        h('ul', { class: 'ct-evidence', 'aria-label': `Frames that prove ${c.name}` },
          evidence.map((e) =>
            h('li', {},
              h('a', { href: `#frame-${e.logId}`, 'data-log-id': String(e.logId), 'data-time': e.time, 'data-station': chargeBoxId }, `frame #${e.logId}`),
              ` ${e.flow} ${e.messageType ?? ''} ${e.action ?? ''} `,
              h('code', { class: 'ct-raw' }, e.raw.length > 200 ? `${e.raw.slice(0, 200)}…` : e.raw),
            ),
          ),
        ),
        c.evidence.length > evidence.length ? h('p', { class: 'hint' }, `The last ${evidence.length} frames are listed; the report holds all ${c.evidence.length}.`) : null,
      ),
    );
  }

  function draw() {
    if (!run) return;
    el.run.hidden = false;
    const running = run.state === 'running';
    setText(el.title, `Run ${run.runId} · suite ${run.suite} on ${run.chargeBoxId} · ${run.state}${run.timeScale !== 1 ? ` · clock ×${run.timeScale}` : ''}`);
    const done = results.size;
    el.progress.max = Math.max(1, plannedTotal, done);
    el.progress.value = done;
    const s = run.summary;
    setText(el.summary, `${done} of ${Math.max(plannedTotal, done)} cases done: ${s.pass} pass, ${s.fail} fail, ${s.inconclusive} inconclusive, ${s.not_applicable} not applicable.`);
    el.abort.hidden = !running;
    el.start.disabled = running && run.chargeBoxId === stationId;
    showAsk(running ? run.ask : undefined);
  }

  /** @param {Report['ask']} ask */
  function showAsk(ask) {
    clearInterval(askTimer);
    askTimer = undefined;
    if (!ask) {
      // A question that went away without an answer from this page timed out (or was answered elsewhere).
      if (shownAsk && run?.runId === shownAsk.runId) {
        const late = Date.parse(shownAsk.until) <= Date.now() + 1000;
        say(el.result, 'warning', late ? `No answer in time: "${shownAsk.prompt}" made ${shownAsk.caseName} inconclusive.` : `"${shownAsk.prompt}" was answered elsewhere.`);
      }
      shownAsk = undefined;
      el.ask.hidden = true;
      delete el.ask.dataset.askId;
      return;
    }
    shownAsk = { ...ask, runId: run?.runId ?? '' };
    const fresh = el.ask.dataset.askId !== ask.askId;
    el.ask.dataset.askId = ask.askId;
    setText(el.askText, `${ask.caseName}: ${ask.prompt}`);
    const tick = () => {
      const left = Date.parse(ask.until) - Date.now();
      setText(el.askLeft, left > 0 ? `Unanswered, the step times out ${relative(ask.until)} (inconclusive).` : 'Timed out: the step is inconclusive.');
      /** @type {HTMLButtonElement} */ (el.askDone).disabled = left <= 0;
      /** @type {HTMLButtonElement} */ (el.askSkip).disabled = left <= 0;
    };
    tick();
    askTimer = setInterval(tick, 1000);
    el.ask.hidden = false;
    if (fresh) el.askDone.focus();
  }

  /** @param {'done' | 'skipped'} answer */
  async function answer(answer) {
    const askId = el.ask.dataset.askId;
    if (!run || !askId) return;
    const r = await api(getToken, 'POST', `api/tests/${encodeURIComponent(run.runId)}/asks/${encodeURIComponent(askId)}`, { answer });
    if (r.ok) {
      say(el.result, 'good', answer === 'done' ? 'Confirmed; the run goes on.' : 'Skipped; the case is inconclusive.');
      run = { ...run, ask: undefined };
      shownAsk = undefined;
      showAsk(undefined);
    } else say(el.result, 'alert', `Answer not taken: ${r.message}`);
  }

  el.suite.addEventListener('change', showCases);
  el.form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!stationId) return;
    const cases = [...el.cases.querySelectorAll('input[name="ct-case"]:checked')].map((c) => /** @type {HTMLInputElement} */ (c).value);
    say(el.result, 'pending', 'Starting the run…');
    const r = await api(getToken, 'POST', `api/stations/${encodeURIComponent(stationId)}/tests`, { suite: el.suite.value, ...(cases.length > 0 ? { cases } : {}) });
    if (!r.ok) {
      say(el.result, 'alert', `Run not started: ${r.message}`);
      return;
    }
    say(el.result, 'good', `Run ${r.body.runId} started: ${r.body.cases.length} case(s).`);
    await showRun(r.body.runId);
    plannedTotal = r.body.cases.length;
    draw();
    void readPast();
  });
  el.abort.addEventListener('click', async () => {
    if (!run) return;
    const r = await api(getToken, 'DELETE', `api/tests/${encodeURIComponent(run.runId)}`);
    say(el.result, r.ok ? 'warning' : 'alert', r.ok ? 'Aborting the run…' : `Not aborted: ${r.message}`);
  });
  el.askDone.addEventListener('click', () => void answer('done'));
  el.askSkip.addEventListener('click', () => void answer('skipped'));
  el.past.addEventListener('click', (ev) => {
    const runId = /** @type {HTMLElement} */ (ev.target).closest('[data-run]')?.getAttribute('data-run');
    if (runId) void showRun(runId);
  });
  el.verdicts.addEventListener('click', (ev) => {
    const a = /** @type {HTMLElement} */ (ev.target).closest('a[data-log-id]');
    if (!a) return;
    ev.preventDefault();
    void revealFrame({ id: Number(a.getAttribute('data-log-id')), time: a.getAttribute('data-time') ?? '', chargeBoxId: a.getAttribute('data-station') ?? '' });
  });
  el.reports.addEventListener('click', async (ev) => {
    const format = /** @type {HTMLElement} */ (ev.target).closest('button[data-format]')?.getAttribute('data-format');
    if (!format || !run) return;
    try {
      const bytes = await download(getToken, `api/tests/${encodeURIComponent(run.runId)}?format=${format}`, `test-run-${run.runId}.${FILE_EXT[/** @type {keyof typeof FILE_EXT} */ (format)] ?? format}`);
      say(el.result, 'good', `Saved the ${format} report (${bytes} bytes).`);
    } catch (err) {
      say(el.result, 'alert', `Could not save the report: ${/** @type {Error} */ (err).message}`);
    }
  });

  return {
    /** @param {string | undefined} id */
    setStation(id) {
      if (id === stationId) return;
      stationId = id;
      if (run && run.chargeBoxId !== id) {
        run = undefined;
        el.run.hidden = true;
        shownAsk = undefined;
        showAsk(undefined);
      }
      el.start.disabled = false;
      setText(el.result, '');
      if (shown) void readPast();
    },
    /** @param {boolean} on */
    setShown(on) {
      shown = on;
      if (!on) return;
      if (!suitesRead) void readSuites();
      void readPast();
      if (run?.state === 'running') void showRun(run.runId);
    },
    /** A pushed `test` update (every run; the one shown is drawn). @param {{ runId: string, kind: string, line: string, report: Report, case?: CaseResult }} u */
    onTest(u) {
      if (!run || u.runId !== run.runId) {
        if (u.case) {
          early.push({ runId: u.runId, result: u.case });
          if (early.length > 100) early.shift();
        }
        // A run started elsewhere (CLI, another page) on this station is shown when nothing else is.
        if (u.kind === 'started' && u.report.chargeBoxId === stationId && (!run || run.state !== 'running')) void showRun(u.runId);
        return;
      }
      run = { ...u.report, cases: undefined };
      setText(el.line, u.line);
      if (u.case) {
        results.set(u.case.name, u.case);
        el.verdicts.append(verdictItem(u.case, u.report.chargeBoxId));
      }
      draw();
      if (u.kind === 'finished') {
        // The final report is the truth (a case pushed while the page was reading it is in there too).
        void showRun(u.runId);
        void readPast();
      }
    },
  };
}
