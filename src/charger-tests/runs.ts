// Test runs kept by the gateway: started over REST (or in-process), run one case after another in the
// background, answered when a step asks a person, and reported on the bus as they go. Bounded: the newest
// MAX_KEPT_RUNS finished runs are kept; one run at a time per station.
import { randomUUID } from 'node:crypto';
import type { Bus } from '../events/bus.js';
import type { TestRunUpdateKind } from '../events/test-runs.js';
import type { TestCase } from './case.js';
import type { AskAnswer, FaultsPort, Hands, StationCalls, TestCsPort } from './ports.js';
import { runCase } from './runner.js';
import { summarize, type CaseResult, type PendingAsk, type RunReport } from './result.js';
import { caseLine } from './report/text.js';

export const MAX_KEPT_RUNS = 20;

export interface TestRunsDeps {
  readonly bus: Bus;
  readonly mode: 'local' | 'steve';
  readonly calls: StationCalls;
  readonly testCs: TestCsPort | undefined;
  readonly hands: Hands;
  /** Absent: cases that need fault injection are not applicable. */
  readonly faults?: FaultsPort;
  readonly graceMs?: number;
  readonly connectWaitMs?: number;
}

export interface StartRequest {
  readonly chargeBoxId: string;
  readonly suite: string;
  readonly cases: readonly TestCase[];
  /** Overrides the station's time scale (simulated stations default to their clock's speed). */
  readonly timeScale?: number;
}

export type AnswerResult = 'ok' | 'no_run' | 'no_ask';

interface LiveRun {
  report: RunReport;
  readonly abort: AbortController;
  done: Promise<RunReport>;
  askWaiter?: { readonly askId: string; readonly resolve: (a: AskAnswer) => void } | undefined;
}

export class TestRuns {
  readonly #runs = new Map<string, LiveRun>();

  constructor(private readonly deps: TestRunsDeps) {}

  /** The run already going on this station, if any. */
  activeFor(chargeBoxId: string): RunReport | undefined {
    for (const r of this.#runs.values()) if (r.report.chargeBoxId === chargeBoxId && r.report.state === 'running') return r.report;
    return undefined;
  }

  start(req: StartRequest): { runId: string; done: Promise<RunReport> } {
    const runId = randomUUID();
    const abort = new AbortController();
    const timeScale = req.timeScale ?? this.deps.hands.timeScale(req.chargeBoxId);
    const report: RunReport = {
      runId, chargeBoxId: req.chargeBoxId, suite: req.suite, mode: this.deps.mode, timeScale, state: 'running',
      startedAt: new Date().toISOString(), cases: [], queued: req.cases.map((c) => c.name), summary: summarize([]),
    };
    const live: LiveRun = { report, abort, done: Promise.resolve(report) };
    this.#runs.set(runId, live);
    this.#prune();
    live.done = this.#run(live, req.cases, timeScale);
    return { runId, done: live.done };
  }

  get(runId: string): RunReport | undefined {
    return this.#runs.get(runId)?.report;
  }

  list(): RunReport[] {
    return [...this.#runs.values()].map((r) => r.report);
  }

  answer(runId: string, askId: string, answer: 'done' | 'skipped'): AnswerResult {
    const run = this.#runs.get(runId);
    if (!run) return 'no_run';
    if (!run.askWaiter || run.askWaiter.askId !== askId) return 'no_ask';
    run.askWaiter.resolve(answer);
    return 'ok';
  }

  abort(runId: string): boolean {
    const run = this.#runs.get(runId);
    if (!run || run.report.state !== 'running') return false;
    run.abort.abort();
    return true;
  }

  /** Aborts every running run and waits for them (gateway shutdown). */
  async stop(): Promise<void> {
    const running = [...this.#runs.values()].filter((r) => r.report.state === 'running');
    for (const r of running) r.abort.abort();
    await Promise.all(running.map((r) => r.done.catch(() => undefined)));
  }

  #update(live: LiveRun, patch: Partial<RunReport>, kind: TestRunUpdateKind, line: string, finished?: CaseResult): void {
    live.report = { ...live.report, ...patch };
    // Updates carry the run without its case results (those grow with the run): each case once, when it ends.
    const { cases: _cases, ...r } = live.report;
    this.deps.bus.emit('testRun', { runId: r.runId, chargeBoxId: r.chargeBoxId, kind, line, report: r, ...(finished ? { case: finished } : {}) });
  }

  async #run(live: LiveRun, cases: readonly TestCase[], timeScale: number): Promise<RunReport> {
    const { chargeBoxId } = live.report;
    const results: CaseResult[] = [];
    this.#update(live, {}, 'started', `run ${live.report.runId}: ${cases.length} case(s) of suite ${live.report.suite} on ${chargeBoxId}`);
    for (const [i, tc] of cases.entries()) {
      if (live.abort.signal.aborted) break;
      this.#update(live, { current: { caseName: tc.name, step: '' }, queued: cases.slice(i + 1).map((c) => c.name) }, 'step', `[${i + 1}/${cases.length}] ${tc.name} …`);
      const result = await runCase(tc, {
        chargeBoxId,
        bus: this.deps.bus,
        mode: this.deps.mode,
        calls: this.deps.calls,
        testCs: this.deps.testCs,
        hands: this.deps.hands,
        ...(this.deps.faults ? { faults: this.deps.faults } : {}),
        timeScale,
        signal: live.abort.signal,
        ...(this.deps.graceMs !== undefined ? { graceMs: this.deps.graceMs } : {}),
        ...(this.deps.connectWaitMs !== undefined ? { connectWaitMs: this.deps.connectWaitMs } : {}),
        ask: (prompt, timeoutMs, signal) => this.#ask(live, tc.name, prompt, timeoutMs, signal),
        onStep: (label) => this.#update(live, { current: { caseName: tc.name, step: label } }, 'step', `[${i + 1}/${cases.length}] ${tc.name}: ${label}`),
      });
      results.push(result);
      this.#update(live, { cases: [...results], summary: summarize(results) }, 'case', caseLine(result, i + 1, cases.length), result);
    }
    const aborted = live.abort.signal.aborted;
    const { current: _current, ask: _ask, ...rest } = live.report;
    live.report = rest;
    const s = summarize(results);
    this.#update(live, { state: aborted ? 'aborted' : 'finished', finishedAt: new Date().toISOString(), queued: aborted ? live.report.queued : [] }, 'finished',
      `${aborted ? 'aborted' : 'finished'}: ${s.pass} pass, ${s.fail} fail, ${s.inconclusive} inconclusive, ${s.not_applicable} not applicable`);
    return live.report;
  }

  #ask(live: LiveRun, caseName: string, prompt: string, timeoutMs: number, signal: AbortSignal): Promise<AskAnswer> {
    const askId = randomUUID().slice(0, 8);
    const ask: PendingAsk = { askId, caseName, prompt, until: new Date(Date.now() + timeoutMs).toISOString() };
    return new Promise<AskAnswer>((resolve) => {
      const finish = (a: AskAnswer): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        live.askWaiter = undefined;
        const { ask: _ask, ...rest } = live.report;
        live.report = rest;
        resolve(a);
      };
      const onAbort = (): void => finish('skipped');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      live.askWaiter = { askId, resolve: finish };
      this.#update(live, { ask }, 'ask', `${caseName}: ${prompt} (confirm within ${Math.round(timeoutMs / 1000)} s)`);
    });
  }

  #prune(): void {
    const finished = [...this.#runs.entries()].filter(([, r]) => r.report.state !== 'running');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - MAX_KEPT_RUNS))) this.#runs.delete(id);
  }
}
