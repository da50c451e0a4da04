// The state of one case while it runs and how each kind of step is carried out: the station's frames (from the
// recorder), the variables, and where the next expectation looks. The runner (runner.ts) drives it step by step.
import { randomBytes } from 'node:crypto';
import type { Bus } from '../events/bus.js';
import type { CaseStep } from './case.js';
import { CHECKS } from './checks.js';
import { mismatch, readPath, substitute } from './match.js';
import type { AskOperator, FaultsPort, Hands, StationCalls, TestCsPort } from './ports.js';
import { FrameRecorder, type StationCall } from './recorder.js';
import type { Verdict } from './result.js';
import { nowUs } from '../relay/frame-tap.js';
import { validate } from '../ocpp/validate.js';

export interface CaseContext {
  readonly chargeBoxId: string;
  readonly bus: Bus;
  readonly mode: 'local' | 'steve';
  readonly calls: StationCalls;
  readonly testCs: TestCsPort | undefined;
  readonly hands: Hands;
  readonly faults?: FaultsPort;
  readonly ask: AskOperator;
  readonly timeScale: number;
  readonly signal: AbortSignal;
  /** Real milliseconds added to every window: the gateway's own latency, not the station's. */
  readonly graceMs?: number;
  /** How long to wait for the station to be connected before a case or a call (real ms). */
  readonly connectWaitMs?: number;
  readonly onStep?: (label: string) => void;
}

export type StepEnd =
  | { readonly ok: true; readonly logIds: readonly number[]; readonly detail?: string }
  | { readonly ok: false; readonly verdict: Exclude<Verdict, 'pass'>; readonly reason: string; readonly logIds: readonly number[]; readonly window?: readonly number[] };

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export class Aborted extends Error {}

/** CALLERRORs by which a station says it does not do an action at all: the case cannot run on it (OCPP-J §4.2.3). */
const UNSUPPORTED_CODES = new Set(['NotImplemented', 'NotSupported']);

/**
 * Why an answer `{status: "NotSupported"}` means the station lacks the feature the case needs (ChangeConfiguration
 * of a key it does not have, UnlockConnector without a lock, ...), or undefined; unless the case expected exactly that.
 */
function unsupportedStatus(action: string, expected: unknown, actual: unknown): string | undefined {
  const status = (v: unknown): unknown => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>).status : undefined);
  if (status(actual) !== 'NotSupported' || status(expected) === 'NotSupported' || status(expected) === undefined) return undefined;
  return `the station answers ${action} with status NotSupported: it does not have the feature this case checks`;
}

export async function waitConnected(ctx: CaseContext, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ctx.calls.connected(ctx.chargeBoxId)) {
    if (Date.now() > end || ctx.signal.aborted) return false;
    await sleep(100, ctx.signal);
  }
  return true;
}

/** The state of one case while it runs: its frames, its variables and where the next expectation looks. */
export class CaseRun {
  readonly recorder: FrameRecorder;
  /** Captured values, and `now` / `inOneHour` (ISO times on the station's clock, for payloads that need a date). */
  readonly vars: Map<string, unknown>;
  /** Set when an action step starts: later expectations look only at frames from then on. */
  #mark = { index: 0, atUs: 0 };
  /** Fault rules this case set: removed when it ends, whatever its verdict. */
  readonly #faultIds: string[] = [];
  /** After an expectation matched: the next one (in order) looks after its last frame. */
  #cursor = { index: 0, atUs: 0 };

  constructor(private readonly ctx: CaseContext) {
    // A simulated station on a fast clock lives ahead of the wall clock: its dates (reservation expiry) are its own.
    const stationNow = ctx.hands.clockNow?.(ctx.chargeBoxId) ?? Date.now();
    this.vars = new Map<string, unknown>([
      ['now', new Date(stationNow).toISOString()],
      ['inOneHour', new Date(stationNow + 3_600_000).toISOString()],
      // A fresh station password for key rotation: never the same twice, never in the repository.
      ['randomKey', randomBytes(12).toString('hex')],
    ]);
    this.recorder = new FrameRecorder(ctx.bus, ctx.chargeBoxId);
    const now = nowUs();
    this.#mark = { index: 0, atUs: now };
    this.#cursor = { index: 0, atUs: now };
  }

  #setMark(): void {
    this.#mark = { index: this.recorder.calls.length, atUs: nowUs() };
    this.#cursor = { ...this.#mark };
  }

  #real(stationSeconds: number): number {
    return (stationSeconds * 1000) / this.ctx.timeScale;
  }

  async step(step: CaseStep): Promise<StepEnd> {
    if (this.ctx.signal.aborted) throw new Aborted();
    switch (step.kind) {
      case 'call':
        return this.#call(step);
      case 'expect':
        return this.#expect(step);
      case 'expectNone':
        return this.#expectNone(step);
      case 'testCs':
        if (!this.ctx.testCs) return { ok: false, verdict: 'not_applicable', reason: 'no test central system in relay mode', logIds: [] };
        this.ctx.testCs.updateFor(this.ctx.chargeBoxId, substitute(step.settings, this.vars), 'testCs');
        return { ok: true, logIds: [] };
      case 'ask':
        return this.#ask(step);
      case 'sleep':
        await sleep(this.#real(step.seconds), this.ctx.signal);
        return { ok: true, logIds: [] };
      case 'fault':
        return this.#fault(step);
    }
  }

  #fault(step: Extract<CaseStep, { kind: 'fault' }>): StepEnd {
    const faults = this.ctx.faults;
    if (!faults) return { ok: false, verdict: 'not_applicable', reason: 'no fault injection in this gateway', logIds: [] };
    const rule = substitute(step.fault, this.vars) as Record<string, unknown>;
    // Durations are station time, like every window of a case.
    const scaled = typeof rule.durationS === 'number' ? { ...rule, durationS: rule.durationS / this.ctx.timeScale } : rule;
    const r = faults.set(this.ctx.chargeBoxId, scaled, 'charger-test');
    if (!r.ok) return { ok: false, verdict: 'inconclusive', reason: `the fault could not be set: ${r.message}`, logIds: [] };
    if (r.rule.spec.kind !== 'cut') this.#faultIds.push(r.rule.id);
    return { ok: true, logIds: [], detail: `fault ${r.rule.id} (${r.rule.spec.kind}) set${r.rule.expiresAt ? ` until ${r.rule.expiresAt}` : ''}` };
  }

  /** Removes the rules the case set (those that have not expired or gone with a disconnect already). */
  clearFaults(): void {
    for (const id of this.#faultIds.splice(0)) this.ctx.faults?.remove(this.ctx.chargeBoxId, id);
  }

  async #call(step: Extract<CaseStep, { kind: 'call' }>): Promise<StepEnd> {
    const ctx = this.ctx;
    if (!(await waitConnected(ctx, Math.max(ctx.connectWaitMs ?? 60_000, this.#real(step.timeout))))) {
      return { ok: false, verdict: 'inconclusive', reason: `station ${ctx.chargeBoxId} is not connected, so ${step.action} could not be sent`, logIds: [] };
    }
    const payload = substitute(step.payload, this.vars);
    // A payload the schema refuses is the case's mistake, not the station's.
    const violation = validate(step.action, 'req', payload);
    if (violation) return { ok: false, verdict: 'inconclusive', reason: `the case's ${step.action} payload is invalid: ${violation.message}`, logIds: [] };
    this.#setMark();
    const markUs = this.#mark.atUs;
    let outcome;
    try {
      outcome = await ctx.calls.call(ctx.chargeBoxId, step.action, payload, { timeoutMs: Math.max(1000, this.#real(step.timeout)) + (ctx.graceMs ?? 2000) });
    } catch (err) {
      return { ok: false, verdict: 'inconclusive', reason: `${step.action} could not be sent: ${(err as Error).message}`, logIds: [] };
    }
    // The message log numbers frames on a later turn: wait (briefly) until it has the call and, if any, its answer.
    const wanted = outcome.kind === 'result' || outcome.kind === 'error' ? 2 : 1;
    const until = Date.now() + 1000;
    let logIds = this.#ownFrames(step.action, markUs);
    while (logIds.length < wanted && Date.now() < until) {
      await this.recorder.next(until - Date.now());
      logIds = this.#ownFrames(step.action, markUs);
    }
    if (outcome.kind === 'result' && 'payload' in outcome) {
      if (step.error) return { ok: false, verdict: 'fail', reason: `${step.action} was answered with a result, expected CALLERROR ${step.error}: ${JSON.stringify(outcome.payload)}`, logIds };
      if (step.result !== undefined) {
        const expected = substitute(step.result, this.vars);
        const unsupported = unsupportedStatus(step.action, expected, outcome.payload);
        if (unsupported) return { ok: false, verdict: 'not_applicable', reason: unsupported, logIds };
        const m = mismatch(expected, outcome.payload, 'result');
        if (m) return { ok: false, verdict: 'fail', reason: `${step.action}: ${m}`, logIds };
      }
      for (const [name, path] of step.capture) this.vars.set(name, readPath({ result: outcome.payload }, path));
      return { ok: true, logIds };
    }
    if (outcome.kind === 'error' && 'code' in outcome) {
      if (step.error && (step.error === '*' || step.error === outcome.code)) return { ok: true, logIds };
      if (UNSUPPORTED_CODES.has(outcome.code)) return { ok: false, verdict: 'not_applicable', reason: `the station does not support ${step.action} (CALLERROR ${outcome.code}: ${outcome.description})`, logIds };
      return { ok: false, verdict: 'fail', reason: `${step.action} was answered with CALLERROR ${outcome.code}: ${outcome.description}`, logIds };
    }
    if (outcome.kind === 'timeout') return { ok: false, verdict: 'fail', reason: `${step.action} got no answer within ${step.timeout} s`, logIds };
    return { ok: false, verdict: 'fail', reason: `${step.action} ended without an answer (${outcome.kind})`, logIds };
  }

  /** Log ids of the gateway's own call of `action` sent after `sinceUs`, and the station's answer. */
  #ownFrames(action: string, sinceUs: number): number[] {
    const out: number[] = [];
    for (const e of this.recorder.entries) {
      if (e.atUs < sinceUs || e.disposition !== 'own' || e.direction !== 'out' || e.action !== action || !e.messageId) continue;
      out.push(e.id);
      const answer = this.recorder.ownAnswerId(e.messageId);
      if (answer !== undefined) out.push(answer);
    }
    return out;
  }

  async #expect(step: Extract<CaseStep, { kind: 'expect' }>): Promise<StepEnd> {
    const from = step.anyOrder ? this.#mark : this.#cursor;
    const payload = step.payload === undefined ? undefined : substitute(step.payload, this.vars);
    const answer = step.answer === undefined ? undefined : substitute(step.answer, this.vars);
    // A capture from the answer waits for the answer like an expectation on it.
    const needsAnswer = answer !== undefined || [...step.capture.values()].some((p) => p.startsWith('answer'));
    const deadline = Date.now() + this.#real(step.within) + (this.ctx.graceMs ?? 2000);
    let closest: string | undefined;
    let lastIndex = from.index;
    for (;;) {
      const matched: { call: StationCall; index: number }[] = [];
      const calls = this.recorder.calls;
      for (let i = from.index; i < calls.length && matched.length < step.count; i++) {
        const c = calls[i]!;
        if (c.atUs < from.atUs || c.action !== step.action) continue;
        const pm = payload === undefined ? undefined : mismatch(payload, c.payload);
        if (pm) {
          closest = `log #${c.logId}: ${pm}`;
          continue;
        }
        if (needsAnswer) {
          if (!c.answer) {
            closest = `log #${c.logId}: not answered yet`;
            break; // answers come in order: wait for this one
          }
          const am = c.answer.error ? `answered with an error: ${c.answer.error}` : answer === undefined ? undefined : mismatch(answer, c.answer.payload, 'answer');
          if (am) {
            closest = `log #${c.logId}: ${am}`;
            continue;
          }
        }
        matched.push({ call: c, index: i });
      }
      lastIndex = calls.length;
      if (matched.length === step.count) return this.#matched(step, matched);
      if (Date.now() > deadline) {
        const window = this.recorder.calls.slice(from.index, lastIndex).filter((c) => c.atUs >= from.atUs).slice(-30).flatMap((c) => (c.answer ? [c.logId, c.answer.logId] : [c.logId]));
        return {
          ok: false,
          verdict: 'fail',
          reason: `expected ${step.count > 1 ? `${step.count}× ` : ''}${step.action}${payload !== undefined ? ` matching ${JSON.stringify(payload)}` : ''}${answer !== undefined ? ` answered ${JSON.stringify(answer)}` : ''} within ${step.within} s; found ${matched.length}${closest ? ` (closest: ${closest})` : ''}`,
          logIds: matched.flatMap((m) => [m.call.logId]),
          window,
        };
      }
      if (this.ctx.signal.aborted) throw new Aborted();
      await this.recorder.next(Math.min(250, deadline - Date.now()));
    }
  }

  #matched(step: Extract<CaseStep, { kind: 'expect' }>, matched: readonly { call: StationCall; index: number }[]): StepEnd {
    const logIds = matched.flatMap((m) => (m.call.answer ? [m.call.logId, m.call.answer.logId] : [m.call.logId]));
    const last = matched[matched.length - 1]!;
    this.#cursor = { index: last.index + 1, atUs: this.#cursor.atUs };
    for (const [name, path] of step.capture) this.vars.set(name, readPath({ payload: last.call.payload, answer: last.call.answer?.payload }, path));
    let detail: string | undefined;
    if (step.spacing) {
      let meanS: number;
      if (step.spacingFrom) {
        // The station's own timestamps: station seconds already, and free of the gateway's scheduling jitter.
        const times = matched.map((m) => readPath({ payload: m.call.payload }, step.spacingFrom!));
        const bad = times.findIndex((t) => typeof t !== 'string' || Number.isNaN(Date.parse(t)));
        if (bad >= 0) return { ok: false, verdict: 'fail', reason: `log #${matched[bad]!.call.logId}: ${step.spacingFrom} is ${JSON.stringify(times[bad])}, not a time`, logIds };
        meanS = (Date.parse(times.at(-1) as string) - Date.parse(times[0] as string)) / (matched.length - 1) / 1000;
      } else {
        meanS = ((last.call.atUs - matched[0]!.call.atUs) / (matched.length - 1) / 1e6) * this.ctx.timeScale;
      }
      detail = `mean spacing ${meanS.toFixed(2)} s`;
      const [min, max] = step.spacing;
      if (meanS < min || meanS > max) return { ok: false, verdict: 'fail', reason: `${step.action} came every ${meanS.toFixed(2)} s on average, expected ${min}–${max} s`, logIds };
    }
    for (const name of step.checks) {
      const problem = CHECKS.get(name)?.(matched.map((m) => m.call), { calls: this.recorder.calls });
      if (problem) return { ok: false, verdict: 'fail', reason: `check ${name}: ${problem}`, logIds };
    }
    return { ok: true, logIds, ...(detail ? { detail } : {}) };
  }

  async #expectNone(step: Extract<CaseStep, { kind: 'expectNone' }>): Promise<StepEnd> {
    // From the last action, or after the frame the previous expectation matched.
    const from = this.#cursor;
    const payload = step.payload === undefined ? undefined : substitute(step.payload, this.vars);
    const end = Date.now() + this.#real(step.within);
    for (;;) {
      for (let i = from.index; i < this.recorder.calls.length; i++) {
        const c = this.recorder.calls[i]!;
        if (c.atUs < from.atUs) continue;
        const named = step.action === '*' ? !step.except.includes(c.action) : c.action === step.action;
        if (named && (payload === undefined || mismatch(payload, c.payload) === undefined)) {
          return { ok: false, verdict: 'fail', reason: `log #${c.logId}: the station sent ${c.action}, which it must not here`, logIds: [c.logId] };
        }
      }
      if (Date.now() >= end) return { ok: true, logIds: [] };
      if (this.ctx.signal.aborted) throw new Aborted();
      await this.recorder.next(Math.min(250, end - Date.now()));
    }
  }

  async #ask(step: Extract<CaseStep, { kind: 'ask' }>): Promise<StepEnd> {
    const ctx = this.ctx;
    this.#setMark();
    if (step.sim && ctx.hands.simulated(ctx.chargeBoxId)) {
      const r = await ctx.hands.act(ctx.chargeBoxId, step.sim);
      if (!r.ok) return { ok: false, verdict: 'inconclusive', reason: `the simulated station could not ${step.sim.type}: ${r.message ?? 'refused'}`, logIds: [] };
      return { ok: true, logIds: [], detail: `simulator: ${step.sim.type}` };
    }
    if (step.skipOnSim && ctx.hands.simulated(ctx.chargeBoxId)) return { ok: true, logIds: [], detail: 'nothing to do on a simulated station' };
    // People work in real time, whatever the station's clock.
    const answer = await ctx.ask(step.prompt, step.timeout * 1000, ctx.signal);
    if (ctx.signal.aborted) throw new Aborted();
    // The mark was set before asking: frames the person's action caused count from the prompt on.
    if (answer === 'done') return { ok: true, logIds: [], detail: 'confirmed' };
    return { ok: false, verdict: 'inconclusive', reason: answer === 'timeout' ? `nobody confirmed "${step.prompt}" within ${step.timeout} s` : `the operator skipped "${step.prompt}"`, logIds: [] };
  }
}
