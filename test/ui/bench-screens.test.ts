// The operator's bench screens (issues 14 and 15) in Chromium against a real gateway in embedded mode with one of its
// own simulated stations: a simulator action changes the station's status; a drop rule set from the form shows its
// frame as `injected` (rule named) in the message log and is removed again; a two-case test run started from the page
// asks its manual step, is confirmed from the page, ends with pass verdicts whose frame links open the frames in the
// message log, and its report downloads; the test central system's settings and tag store are edited; a viewer sees
// none of it. Every screen: keyboard tabs, 0 axe-core violations in light and dark, no wider than 390 px, no console errors.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser, collectPageErrors } from './support/browser.js';
import { ARTIFACTS, axeViolations, waitFor } from './support/page-checks.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const STATION = 'SIM-BENCH';
let ui: UiGateway;
let browser: TestBrowser;
let page: Page;
let casesDir: string;
const pageErrors: string[] = [];

/** A suite of three fast cases: one from the core catalogue, two with a manual step no simulator can do. */
function writeSuite(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-ui-'));
  mkdirSync(path.join(dir, 'bench'));
  copyFileSync('charger-tests/core/11-get-configuration-unknown-key.yaml', path.join(dir, 'bench', '01-unknown-key.yaml'));
  writeFileSync(path.join(dir, 'bench', '02-confirm.yaml'), [
    'name: operator-confirms',
    'title: A manual step confirmed from the page',
    'spec: The bench UI answers a question of the run.',
    'profile: Core',
    'steps:',
    "  - ask: Press the station's service button",
    '    timeout: 60',
    '  - call: GetConfiguration',
    '    payload: { key: [HeartbeatInterval] }',
    '    result: { configurationKey: [{ key: HeartbeatInterval }] }',
    '',
  ].join('\n'));
  writeFileSync(path.join(dir, 'bench', '03-unanswered.yaml'), [
    'name: operator-silent',
    'title: A manual step nobody answers',
    'spec: The bench UI shows a question timing out.',
    'profile: Core',
    'steps:',
    '  - ask: Nobody is at the bench',
    '    timeout: 2',
    '',
  ].join('\n'));
  return dir;
}

/** Waits at most 10 s unless told otherwise, so a failing step is named before the test's own timeout. */
function wait(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  return waitFor(check, what, ms);
}

async function text(selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? '';
}

async function openTab(name: string): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await wait(async () => (await page.getByRole('tab', { name }).getAttribute('aria-selected')) === 'true', `tab ${name}`);
}

/** axe in both themes and the 390 px width, on what the page shows now. */
async function checkScreen(name: string): Promise<void> {
  await page.locator('#bench').scrollIntoViewIfNeeded();
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    // The bench and the message log (where its frames show); the rest of the page has its own tests.
    const violations = await axeViolations(page, ['#bench', '#frames']);
    expect(violations, `${name} ${colorScheme}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  // What spills, named, when something does.
  const wide = width > 390 ? await page.evaluate(`[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391
    && e.parentElement && e.parentElement.getBoundingClientRect().right <= 391)
    .slice(-8).map((e) => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)
    + ' parent ' + e.parentElement.className + ' ' + getComputedStyle(e.parentElement).overflowX + ' ' + e.parentElement.scrollWidth + '/' + e.parentElement.clientWidth + ' ' + (e.parentElement.closest('[hidden]') ? 'hidden' : '') + getComputedStyle(e.parentElement).display)`) : [];
  await page.locator('#bench').screenshot({ path: path.join(ARTIFACTS, `bench-${name}-390.png`) });
  await page.setViewportSize({ width: 1366, height: 900 });
  expect(width, `${name} at 390 px: ${JSON.stringify(wide)}`).toBeLessThanOrEqual(390);
}

beforeAll(async () => {
  casesDir = writeSuite();
  mkdirSync(ARTIFACTS, { recursive: true });
  ui = await startUiGateway({ env: { SIM_BOOT_DELAY_MS: '200', CHARGER_TESTS_DIR: casesDir } });
  ui.gw.sim.create({ id: STATION, autopilot: false });
  await wait(async () => ui.gw.relay.stations().some((s) => s.chargeBoxId === STATION), 'the simulated station', 20_000);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  // A control that never becomes usable fails its step, not the whole test's timeout.
  page.setDefaultTimeout(8000);
  collectPageErrors(page, pageErrors);
  await page.goto(`${ui.url}/#station=${STATION}`);
  await page.getByLabel('Access token (JWT)').fill(token({ sub: 'bench-operator' }));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await wait(async () => (await text('#st-title')) === STATION, 'the station screen');
  await wait(async () => (await text('#conn-text')) === 'Live', 'the live connection');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  if (casesDir) rmSync(casesDir, { recursive: true, force: true });
});

describe('bench screens (operator)', () => {
  it('tabs are reachable and move with the arrow keys', async () => {
    await page.getByRole('tab', { name: 'Fault injection' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate('document.activeElement.id')).toBe('bt-tests');
    expect(await page.locator('#bp-tests').isVisible()).toBe(true);
    await page.keyboard.press('End');
    expect(await page.evaluate('document.activeElement.id')).toBe('bt-cs');
    await page.keyboard.press('Home');
    expect(await page.evaluate('document.activeElement.id')).toBe('bt-faults');
    // The panel's first control is the next Tab stop after the tab list.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('fi-refresh');
  });

  it('simulator: plugging in and a connector fault change the station status; a station added from the form appears in the list', async () => {
    await openTab('Simulator');
    await wait(() => page.getByRole('button', { name: 'Plug in (connector 1)' }).isVisible(), 'the connector controls');
    await wait(async () => (await text('#st-status')) === 'Available', 'the station Available');
    await page.getByRole('button', { name: 'Plug in (connector 1)' }).click();
    await wait(async () => (await text('#st-status')) === 'Preparing', 'the status Preparing on the station screen', 10_000);
    await wait(() => page.getByRole('button', { name: 'Unplug (connector 1)' }).isVisible(), 'the unplug control');
    expect(await text('#sim-connectors')).toContain('plugged in');
    // A connector fault with the chosen code, and back.
    await page.locator('#sim-fault-code').selectOption('HighTemperature');
    await page.getByRole('button', { name: 'Set fault (connector 1)' }).click();
    await wait(async () => (await text('#st-status')) === 'Faulted', 'the status Faulted');
    await wait(async () => (await text('#sim-connectors')).includes('Faulted (HighTemperature)'), 'the fault on the connector');
    await page.getByRole('button', { name: 'Clear fault (connector 1)' }).click();
    await wait(async () => (await text('#st-status')) === 'Preparing', 'the fault cleared');

    await page.locator('#bp-sim').getByLabel('Station id').fill('SIM-ADDED');
    await page.getByRole('button', { name: 'Add station' }).click();
    await wait(async () => (await text('#sim-result')).includes('SIM-ADDED added'), 'the add confirmation');
    await wait(async () => (await page.locator('#station-list').textContent())?.includes('SIM-ADDED') ?? false, 'the new station in the list', 15_000);
    await checkScreen('sim');
  }, 40_000);

  it('fault injection: a drop rule from the form marks its frame injected in the log; removing it empties the list', async () => {
    await openTab('Fault injection');
    await page.getByRole('button', { name: 'Start stream' }).click();
    await page.locator('#bp-faults').getByLabel('Kind').selectOption('drop');
    await page.locator('#bp-faults').getByLabel('Direction').selectOption('toUpstream');
    await page.locator('#fi-actions').fill('StatusNotification');
    await page.locator('#fi-seed').fill('7');
    await page.locator('#fi-duration').fill('120');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await wait(async () => (await page.locator('#fi-rules li').count()) === 1, 'the rule in the list');
    const rule = await text('#fi-rules li');
    expect(rule).toContain('drop · station → central system · StatusNotification · seed 7');
    expect(rule).toContain('set by bench-operator');
    expect(rule).toMatch(/ends in (1 min \d+ s|2 min 0 s)/);
    const ruleId = (await page.locator('#fi-rules li').getAttribute('data-rule'))!;

    // A refused rule names its field and focuses it.
    await page.locator('#fi-rate').fill('2');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await wait(async () => (await text('#fi-result')).includes('rate'), 'the refusal');
    expect(await page.evaluate('document.activeElement.id')).toBe('fi-rate');
    await page.locator('#fi-rate').fill('1');

    await ui.gw.sim.act(STATION, { type: 'plugOut', connectorId: 1 });
    const injected = page.locator('#frame-rows tr.injected');
    await wait(async () => (await injected.count()) > 0, 'an injected frame in the message log', 10_000);
    // The rule is named once, with what it did.
    expect(await injected.first().locator('td.findings').textContent()).toBe(`fault rule ${ruleId} (drop): dropped`);
    expect(await injected.first().textContent()).toContain('StatusNotification');
    await checkScreen('faults');

    await page.getByRole('button', { name: `Remove rule ${ruleId} (drop)` }).click();
    await wait(async () => (await page.locator('#fi-rules li').count()) === 0, 'the rule gone');
    expect(await page.locator('#fi-empty').isVisible()).toBe(true);
    expect(ui.gw.relay.faults.list(STATION)).toEqual([]);
    await page.getByRole('button', { name: 'Pause stream' }).click();
  }, 40_000);

  it('test runs: progress, a manual step confirmed and one timing out, verdicts with frame links, the report saved', async () => {
    await openTab('Test runs');
    await wait(async () => (await page.locator('input[name="ct-case"]').count()) === 3, 'the cases of the suite');
    // Nothing ticked: the whole suite runs.
    await page.getByRole('button', { name: 'Start the run' }).click();
    // The manual step asks; the prompt takes the focus and counts down.
    await wait(() => page.locator('#ct-ask').isVisible(), 'the manual step prompt', 15_000);
    expect(await text('#ct-ask-text')).toContain("Press the station's service button");
    expect(await text('#ct-ask-left')).toMatch(/times out in (\d+ s|1 min 0 s)/);
    expect(await page.evaluate('document.activeElement.id')).toBe('ct-ask-done');
    expect(Number(await page.locator('#ct-progress').getAttribute('max'))).toBe(3);
    await checkScreen('tests-ask');
    await page.getByRole('button', { name: 'Done' }).click();
    // The next question nobody answers: it counts down and the case ends inconclusive.
    await wait(async () => (await text('#ct-ask-text')).includes('Nobody is at the bench'), 'the second prompt');
    await wait(async () => (await text('#ct-run-title')).includes('finished'), 'the run to finish', 30_000);
    expect(await page.locator('#ct-ask').isVisible()).toBe(false);
    expect(await text('#ct-result')).toContain('No answer in time: "Nobody is at the bench" made operator-silent inconclusive.');
    const verdicts = page.locator('#ct-verdicts > li');
    expect(await verdicts.count()).toBe(3);
    expect(await verdicts.locator('.verdict-badge').allTextContents()).toEqual(['pass', 'pass', 'inconclusive']);
    expect(await verdicts.nth(2).locator('.ct-reason').textContent()).toBe('nobody confirmed "Nobody is at the bench" within 2 s');
    expect(await text('#ct-summary')).toContain('3 of 3 cases done: 2 pass, 0 fail, 1 inconclusive');
    expect(await page.locator('#ct-progress').getAttribute('value')).toBe('3');

    // A frame that proves the verdict opens in the message log, read from the log (the stream was paused).
    const first = verdicts.filter({ hasText: 'get-configuration-unknown-key' });
    await first.locator('summary').click();
    const link = first.locator('.ct-evidence a').first();
    const logId = await link.getAttribute('data-log-id');
    await link.click();
    await wait(async () => (await page.evaluate('document.activeElement && document.activeElement.id')) === `frame-${logId}`, 'the frame row focused');
    expect(await page.locator(`#frame-${logId}`).textContent()).toContain('GetConfiguration');
    await checkScreen('tests');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#ct-reports').getByRole('button', { name: 'JSON', exact: true }).click()]);
    const report = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { summary: { pass: number }; cases: { verdict: string; evidence: { logId: number }[] }[] };
    expect(report.summary.pass).toBe(2);
    expect(report.cases.map((c) => c.verdict)).toEqual(['pass', 'pass', 'inconclusive']);
    expect(report.cases.flatMap((c) => c.evidence.map((e) => String(e.logId)))).toContain(logId);
  }, 60_000);

  it('test central system: heartbeat interval and boot answer saved, a tag added and removed', async () => {
    await openTab('Test central system');
    await wait(async () => (await text('#cs-mode')).startsWith('Embedded mode'), 'the settings');
    await page.getByLabel('Heartbeat interval (s)').fill('120');
    await page.getByLabel('Boot answer').selectOption('Pending');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await wait(async () => (await text('#cs-result')).includes('heartbeat every 120 s'), 'the save');
    const view = await ui.gw.getJson<{ settings: { heartbeatInterval: number; boot: { status: string } } }>('/api/test-cs');
    expect(view.settings.heartbeatInterval).toBe(120);
    expect(view.settings.boot.status).toBe('Pending');

    // A refused value names its field.
    await page.getByLabel('Heartbeat interval (s)').fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await wait(async () => (await text('#cs-result')).includes('heartbeatInterval'), 'the refusal');
    expect(await page.evaluate('document.activeElement.id')).toBe('cs-heartbeat');

    await page.locator('#bp-cs').getByLabel('idTag', { exact: true }).fill('BLOCK01');
    await page.locator('#cs-tag-status').selectOption('Blocked');
    await page.getByRole('button', { name: 'Add or replace tag' }).click();
    await wait(async () => (await text('#cs-tags')).includes('BLOCK01 · Blocked'), 'the tag in the store');
    await checkScreen('test-cs');
    await page.getByRole('button', { name: 'Remove tag BLOCK01' }).click();
    await wait(async () => (await page.locator('#cs-tags li').count()) === 0, 'the tag removed');
    // The two refusals above are logged by Chromium as failed requests; nothing else may be.
    const refusals = /status of 400 \(Bad Request\) \(http:\/\/[^/]+\/api\/(stations\/SIM-BENCH\/faults|test-cs)\)$/;
    expect(pageErrors.filter((e) => !refusals.test(e)), pageErrors.join('\n')).toEqual([]);
    expect(pageErrors.filter((e) => refusals.test(e))).toHaveLength(2);
  }, 30_000);

  it('a viewer sees none of the bench controls', async () => {
    const p = await browser.context.newPage();
    const errors: string[] = [];
    collectPageErrors(p, errors);
    await p.goto(ui.url);
    await p.evaluate('sessionStorage.clear()');
    await p.reload();
    await p.getByLabel('Access token (JWT)').fill(token({ sub: 'viewer', role: 'viewer', chargers: [STATION] }));
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await wait(async () => (await p.locator('#st-title').textContent()) === STATION, 'the viewer station screen');
    expect(await p.locator('#bench').isHidden()).toBe(true);
    expect(await p.getByRole('tab').count()).toBe(0);
    expect(errors).toEqual([]);
    await p.close();
  });
});
