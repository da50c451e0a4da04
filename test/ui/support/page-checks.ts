// Checks every UI test can run on a page: axe-core (injected from the installed package; the page's CSP does
// not apply to DevTools evaluation), console errors collected, screenshots kept under test-artifacts/ui/.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';

export const ARTIFACTS = path.resolve('test-artifacts/ui');

let axeSource: string | undefined;

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/**
 * axe-core's violations (WCAG 2.x A/AA rules and best practices) on what the page shows now; `include` (CSS
 * selectors) limits the check to those parts, which is much faster on a long page.
 */
export async function axeViolations(page: Page, include?: readonly string[]): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.evaluate(axeSource);
  const context = include ? JSON.stringify({ include: include.map((s) => [s]) }) : 'document';
  const result = (await page.evaluate(`axe.run(${context}, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  })))`)) as AxeViolation[];
  return result;
}

/** Console errors and uncaught exceptions of `page`, as they happen. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`${msg.text()} (${msg.location().url})`);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Polls from the test side: the page's CSP forbids the string predicates of waitForFunction. */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
