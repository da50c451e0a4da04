// Terminal lines: one per case as it finishes, and the summary at the end.
import type { CaseResult, RunReport } from '../result.js';

const WORD: Readonly<Record<CaseResult['verdict'], string>> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', not_applicable: 'N/A' };

export function caseLine(c: CaseResult, n: number, total: number): string {
  const head = `[${n}/${total}] ${WORD[c.verdict].padEnd(12)} ${c.name} (${(c.ms / 1000).toFixed(1)} s)`;
  if (c.verdict === 'pass') return head;
  const ids = c.evidence.map((e) => e.logId);
  return `${head}\n        ${c.reason ?? ''}${c.failedStep ? `\n        step ${c.failedStep.index + 1} "${c.failedStep.label}"` : ''}${ids.length ? `\n        frames: message log ids ${ids.slice(0, 12).join(', ')}${ids.length > 12 ? ` … (${ids.length})` : ''}` : ''}`;
}

export function summaryText(r: RunReport): string {
  const s = r.summary;
  return [
    `suite ${r.suite} on ${r.chargeBoxId} (${r.mode === 'local' ? 'embedded test central system' : 'relayed to SteVe'}${r.timeScale !== 1 ? `, station clock ×${r.timeScale}` : ''}): ${r.state}`,
    `  ${s.pass} pass, ${s.fail} fail, ${s.inconclusive} inconclusive, ${s.not_applicable} not applicable (${s.total} run)`,
    ...(s.fail > 0 ? ['  failed: ' + r.cases.filter((c) => c.verdict === 'fail').map((c) => c.name).join(', ')] : []),
    ...(s.fail > 0 || s.inconclusive > 0 ? ['  the frames are in the message log: GET /api/messages?chargeBoxId=' + encodeURIComponent(r.chargeBoxId) + ' (or the report\'s evidence)'] : []),
  ].join('\n');
}
