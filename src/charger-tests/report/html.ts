// A self-contained HTML report: inline style, no script, no external asset; opens from a CI artefact or a mail.
import type { CaseResult, RunReport } from '../result.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLOURS: Readonly<Record<CaseResult['verdict'], string>> = { pass: '#1a7f37', fail: '#cf222e', inconclusive: '#9a6700', not_applicable: '#6e7781' };
const WORD: Readonly<Record<CaseResult['verdict'], string>> = { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive', not_applicable: 'not applicable' };

function caseBlock(c: CaseResult): string {
  const steps = c.steps.map((s) => `<li class="${s.ok ? 'ok' : 'bad'}">${esc(s.label)}${s.detail ? ` <span class="d">— ${esc(s.detail)}</span>` : ''}${s.logIds.length ? ` <span class="ids">#${s.logIds.join(' #')}</span>` : ''}</li>`).join('');
  const frames = c.evidence.map((e) => `<tr><td>#${e.logId}</td><td>${esc(e.time)}</td><td>${esc(e.flow)}</td><td><code>${esc(e.raw)}</code></td></tr>`).join('');
  return `<details id="${esc(c.name)}"${c.verdict === 'fail' || c.verdict === 'inconclusive' ? ' open' : ''}>
<summary><span class="v" style="background:${COLOURS[c.verdict]}">${WORD[c.verdict]}</span> <b>${esc(c.name)}</b> — ${esc(c.title)} <span class="d">(${(c.ms / 1000).toFixed(1)} s)</span></summary>
<p class="spec">Checks: ${esc(c.spec)}</p>
${c.reason ? `<p class="reason">${esc(c.reason)}</p>` : ''}
${c.failedStep ? `<p>Failed at step ${c.failedStep.index + 1}, “${esc(c.failedStep.label)}”: expected ${esc(c.failedStep.expectation)}.</p>` : ''}
${c.framesDropped ? `<p class="reason">${c.framesDropped} frames were not recorded (byte budget): the evidence is incomplete.</p>` : ''}
${steps ? `<ol>${steps}</ol>` : ''}
${c.findings?.length ? `<p>Conformance findings (they do not change the verdict):</p><ul>${c.findings.map((f) => `<li><code>${esc(f.rule)}</code> #${f.logId}: ${esc(f.message)}</li>`).join('')}</ul>` : ''}
${frames ? `<table><thead><tr><th>log id</th><th>time</th><th>flow</th><th>frame</th></tr></thead><tbody>${frames}</tbody></table>` : ''}
</details>`;
}

export function toHtml(r: RunReport): string {
  const s = r.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Charger tests: ${esc(r.chargeBoxId)} (${esc(r.suite)})</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1f2328}
.v{color:#fff;border-radius:4px;padding:1px 8px;font-size:12px;text-transform:uppercase}
details{border:1px solid #d0d7de;border-radius:6px;margin:.5em 0;padding:.4em .8em}
summary{cursor:pointer}.d,.ids{color:#6e7781}.spec{color:#57606a}.reason{color:#cf222e;font-weight:600}
li.bad{color:#cf222e}table{border-collapse:collapse;width:100%;font-size:12px}td,th{border-top:1px solid #eaeef2;padding:2px 6px;text-align:left;vertical-align:top}
code{white-space:pre-wrap;word-break:break-all}.totals span{margin-right:1.2em}
</style></head><body>
<h1>Charger tests: ${esc(r.chargeBoxId)}</h1>
<p>Suite <b>${esc(r.suite)}</b>, run ${esc(r.runId)}, ${esc(r.startedAt)} – ${esc(r.finishedAt ?? 'running')}; ${r.mode === 'local' ? 'the gateway was the central system (embedded test central system)' : 'relayed to SteVe'}${r.timeScale !== 1 ? `; simulated station clock ×${r.timeScale}` : ''}. State: ${esc(r.state)}.</p>
<p class="totals"><span style="color:${COLOURS.pass}">${s.pass} pass</span><span style="color:${COLOURS.fail}">${s.fail} fail</span><span style="color:${COLOURS.inconclusive}">${s.inconclusive} inconclusive</span><span style="color:${COLOURS.not_applicable}">${s.not_applicable} not applicable</span></p>
<p class="d">Frame numbers (#) are message-log ids: <code>GET /api/messages?chargeBoxId=${esc(encodeURIComponent(r.chargeBoxId))}</code> on the gateway lists them with their context.</p>
${r.cases.map(caseBlock).join('\n')}
</body></html>
`;
}
