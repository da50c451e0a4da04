// Runs one test case against one station and gives its verdict with the frames that prove it. Time in a case
// is station time: with a simulated station on a fast clock (`timeScale` > 1) every window shrinks by that factor.
import type { CaseStep, TestCase } from './case.js';
import { Aborted, CaseRun, sleep, waitConnected, type CaseContext, type StepEnd } from './case-run.js';
import { readPath } from './match.js';
import { evidenceOf } from './recorder.js';
import type { CaseResult, EvidenceFrame, StepOutcome, Verdict } from './result.js';

export type { CaseContext } from './case-run.js';

/** OCPP 1.6 feature profiles a station lists in SupportedFeatureProfiles; a case of another profile than Core runs only where listed. */
export const FEATURE_PROFILES = ['FirmwareManagement', 'LocalAuthListManagement', 'Reservation', 'SmartCharging', 'RemoteTrigger'] as const;

/** Why a case cannot run here, or undefined when it can. */
export function notApplicable(tc: TestCase, mode: 'local' | 'steve', faults = true): string | undefined {
  if (tc.requires.includes('faults') && !faults) return 'needs fault injection on the relay, which this run was not given';
  if (tc.requires.includes('embedded') && mode !== 'local') return 'needs the gateway to be the central system: start it without STEVE_WS_URL (embedded mode)';
  return undefined;
}

export async function runCase(tc: TestCase, ctx: CaseContext): Promise<CaseResult> {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const base = { name: tc.name, title: tc.title, spec: tc.spec, profile: tc.profile, startedAt };
  const na = notApplicable(tc, ctx.mode, ctx.faults !== undefined);
  if (na) return { ...base, verdict: 'not_applicable', reason: na, steps: [], evidence: [], ms: 0 };
  if (!(await waitConnected(ctx, ctx.connectWaitMs ?? 60_000))) {
    return { ...base, verdict: 'inconclusive', reason: `station ${ctx.chargeBoxId} is not connected to the gateway; connect it and run again`, steps: [], evidence: [], ms: Date.now() - t0 };
  }
  const unsupported = await unsupportedProfile(tc, ctx);
  if (unsupported) return { ...base, verdict: 'not_applicable', reason: unsupported, steps: [], evidence: [], ms: Date.now() - t0 };
  const saved = ctx.testCs?.overrideOf(ctx.chargeBoxId);
  const run = new CaseRun(ctx);
  const outcomes: StepOutcome[] = [];
  let verdict: Verdict = 'pass';
  let reason: string | undefined;
  let failedStep: CaseResult['failedStep'];
  let window: readonly number[] = [];
  try {
    for (const [index, step] of tc.steps.entries()) {
      ctx.onStep?.(step.label);
      const s0 = Date.now();
      const end = await run.step(step);
      outcomes.push({ index, label: step.label, ok: end.ok, ms: Date.now() - s0, logIds: end.logIds, ...(end.ok ? (end.detail ? { detail: end.detail } : {}) : { detail: end.reason }) });
      if (!end.ok) {
        verdict = end.verdict;
        reason = end.reason;
        failedStep = { index, label: step.label, expectation: describeStep(step) };
        window = end.window ?? [];
        break;
      }
    }
  } catch (err) {
    verdict = 'inconclusive';
    reason = err instanceof Aborted || ctx.signal.aborted ? 'the run was aborted' : `the runner failed: ${(err as Error).message}`;
  }
  // Cleanup: best effort, never changes the verdict; its outcomes are listed after the steps.
  for (const [i, step] of tc.cleanup.entries()) {
    if (ctx.signal.aborted) break;
    ctx.onStep?.(`cleanup: ${step.label}`);
    const s0 = Date.now();
    const end = await run.step(step).catch((err: unknown): StepEnd => ({ ok: false, verdict: 'inconclusive', reason: (err as Error).message, logIds: [] }));
    outcomes.push({ index: tc.steps.length + i, label: `cleanup: ${step.label}`, ok: end.ok, ms: Date.now() - s0, logIds: end.logIds, ...(end.ok ? {} : { detail: end.reason }) });
  }
  run.clearFaults();
  ctx.testCs?.restoreFor(ctx.chargeBoxId, saved);
  // Let the message log catch up so the evidence can be read back.
  await sleep(50);
  run.recorder.close();
  const ids = new Set<number>();
  for (const o of outcomes) for (const id of o.logIds) ids.add(id);
  for (const id of window) ids.add(id);
  const evidence: EvidenceFrame[] = [...ids].sort((a, b) => a - b).flatMap((id) => {
    const e = run.recorder.byId(id);
    return e ? [evidenceOf(e)] : [];
  });
  return {
    ...base,
    verdict,
    ...(reason !== undefined ? { reason } : {}),
    ...(failedStep ? { failedStep } : {}),
    steps: outcomes,
    evidence,
    ms: Date.now() - t0,
    ...(run.recorder.dropped > 0 ? { framesDropped: run.recorder.dropped } : {}),
    ...(run.recorder.findings.length > 0 ? { findings: run.recorder.findings.map((f) => ({ rule: f.rule, logId: f.logId, message: f.message })) } : {}),
  };
}

/** Why the station does not do the case's feature profile (per its SupportedFeatureProfiles), or undefined. */
async function unsupportedProfile(tc: TestCase, ctx: CaseContext): Promise<string | undefined> {
  if (!(FEATURE_PROFILES as readonly string[]).includes(tc.profile)) return undefined;
  const outcome = await ctx.calls.call(ctx.chargeBoxId, 'GetConfiguration', { key: ['SupportedFeatureProfiles'] }, { timeoutMs: 30_000 }).catch(() => undefined);
  if (outcome?.kind !== 'result' || !('payload' in outcome)) return undefined; // cannot tell: let the case decide
  const value = readPath(outcome.payload, 'configurationKey.0.value');
  if (typeof value !== 'string') return undefined;
  const listed = value.split(',').map((p) => p.trim());
  return listed.includes(tc.profile) ? undefined : `the station does not list ${tc.profile} in SupportedFeatureProfiles (${value})`;
}

export function describeStep(step: CaseStep): string {
  switch (step.kind) {
    case 'call':
      return `the station answers ${step.action}${step.error ? ` with CALLERROR ${step.error}` : step.result !== undefined ? ` with ${JSON.stringify(step.result)}` : ''}`;
    case 'expect':
      return `within ${step.within} s the station sends ${step.count > 1 ? `${step.count}× ` : ''}${step.action}${step.payload !== undefined ? ` matching ${JSON.stringify(step.payload)}` : ''}${step.answer !== undefined ? `, answered ${JSON.stringify(step.answer)}` : ''}${step.spacing ? `, ${step.spacing[0]}–${step.spacing[1]} s apart` : ''}${step.checks.length ? `; checks ${step.checks.join(', ')}` : ''}`;
    case 'expectNone':
      return `for ${step.within} s the station sends no ${step.action === '*' ? 'call' : step.action}${step.except.length ? ` other than ${step.except.join(', ')}` : ''}${step.payload !== undefined ? ` matching ${JSON.stringify(step.payload)}` : ''}`;
    case 'ask':
      return `a person (or the simulator) does: ${step.prompt}`;
    case 'testCs':
      return `the test central system takes ${JSON.stringify(step.settings)}`;
    case 'sleep':
      return `wait ${step.seconds} s`;
    case 'fault':
      return 'inject a fault';
  }
}
