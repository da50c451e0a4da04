// JUnit XML for a firmware team's CI: one testsuite per run, one testcase per case. fail → <failure>,
// inconclusive → <error>, not applicable → <skipped>. The evidence frames go to <system-out>.
import type { CaseResult, RunReport } from '../result.js';

export function xmlEscape(s: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the rest are escaped.
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function frames(c: CaseResult): string {
  const lines = c.evidence.map((e) => `#${e.logId} ${e.time} ${e.flow} ${e.raw}`);
  for (const f of c.findings ?? []) lines.push(`finding ${f.rule} at #${f.logId}: ${f.message}`);
  return lines.join('\n');
}

function testcase(r: RunReport, c: CaseResult): string {
  const attrs = `name="${xmlEscape(c.name)}" classname="${xmlEscape(`${r.suite}.${c.profile}`)}" time="${(c.ms / 1000).toFixed(3)}"`;
  const detail = xmlEscape(`${c.reason ?? ''}${c.failedStep ? `\nstep ${c.failedStep.index + 1}: ${c.failedStep.label}\nexpected: ${c.failedStep.expectation}` : ''}\nspec: ${c.spec}`);
  const body =
    c.verdict === 'fail' ? `<failure message="${xmlEscape(c.reason ?? 'failed')}" type="fail">${detail}</failure>`
    : c.verdict === 'inconclusive' ? `<error message="${xmlEscape(c.reason ?? 'inconclusive')}" type="inconclusive">${detail}</error>`
    : c.verdict === 'not_applicable' ? `<skipped message="${xmlEscape(c.reason ?? 'not applicable')}"/>`
    : '';
  const out = c.evidence.length || c.findings?.length ? `<system-out>${xmlEscape(frames(c))}</system-out>` : '';
  return `    <testcase ${attrs}>${body}${out}</testcase>`;
}

export function toJUnit(r: RunReport): string {
  const s = r.summary;
  const seconds = r.cases.reduce((t, c) => t + c.ms, 0) / 1000;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="chargebridge charger tests" tests="${s.total}" failures="${s.fail}" errors="${s.inconclusive}" skipped="${s.not_applicable}" time="${seconds.toFixed(3)}">`,
    `  <testsuite name="${xmlEscape(`${r.suite} on ${r.chargeBoxId}`)}" tests="${s.total}" failures="${s.fail}" errors="${s.inconclusive}" skipped="${s.not_applicable}" time="${seconds.toFixed(3)}" timestamp="${r.startedAt}">`,
    `    <properties><property name="chargeBoxId" value="${xmlEscape(r.chargeBoxId)}"/><property name="mode" value="${r.mode}"/><property name="runId" value="${r.runId}"/><property name="timeScale" value="${r.timeScale}"/></properties>`,
    ...r.cases.map((c) => testcase(r, c)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
