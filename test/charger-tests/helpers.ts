// Shared by the charger-test tests: wait for a condition, run a suite over REST and wait for its report.
import type { RunReport } from '../../src/charger-tests/index.js';
import type { TestGateway } from '../support/gateway.js';

export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function postJson(gw: TestGateway, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.httpUrl}${path}`, { method: 'POST', headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function startRun(gw: TestGateway, chargeBoxId: string, body: Record<string, unknown>): Promise<string> {
  const r = await postJson(gw, `/api/stations/${encodeURIComponent(chargeBoxId)}/tests`, body);
  if (r.status !== 202) throw new Error(`POST tests: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.runId as string;
}

export async function waitReport(gw: TestGateway, runId: string, ms: number): Promise<RunReport> {
  return until(async () => {
    const r = await gw.getJson<RunReport>(`/api/tests/${runId}`);
    return r.state !== 'running' && r;
  }, ms, `test run ${runId} to finish`);
}

/** One line per case that did not pass, for assertion messages. */
export function explain(report: RunReport): string {
  return report.cases
    .filter((c) => c.verdict !== 'pass')
    .map((c) => `${c.name}: ${c.verdict} — ${c.reason ?? ''}${c.failedStep ? ` [step ${c.failedStep.index + 1} ${c.failedStep.label}]` : ''}\n${c.evidence.slice(-12).map((e) => `   #${e.logId} ${e.flow} ${e.raw}`).join('\n')}`)
    .join('\n');
}
