// Screenshots of the web UI for docs/ui.md, taken in Debian's Chromium against a real gateway in embedded mode with
// simulated stations (the UI tests' own gateway and browser support). Not part of `npm test`.
//   npm run ui:screenshots            (writes docs/screens/*.png; about a minute)
// Each picture is cropped to the part it documents, at CSS pixel scale, so the PNGs stay small.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { CHROMIUM, launchBrowser, type TestBrowser } from '../test/ui/support/browser.js';
import { waitFor } from '../test/ui/support/page-checks.js';
import { startUiGateway, token, type UiGateway } from '../test/ui/support/ui-gateway.js';

const OUT = path.resolve('docs/screens');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const BENCH_VIEW = { width: 1120, height: 800 };
const RIDER = 'SIM-RIDER';
const BENCH = 'SIM-BENCH';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Cases written for the pictures: one that fails on purpose (the station's interval is not 42 s), one left to time out. */
const CASES: Readonly<Record<string, string>> = {
  '02-wrong-expectation.yaml': `name: wrong-heartbeat
title: An expectation the station does not meet
spec: The bench UI shows a failed step and why.
profile: Core
steps:
  - call: GetConfiguration
    payload: { key: [HeartbeatInterval] }
    result: { configurationKey: [{ key: HeartbeatInterval, value: '42' }] }
`,
  '03-unanswered.yaml': `name: service-button
title: A manual step nobody answers
spec: The bench UI shows a question timing out.
profile: Core
steps:
  - ask: Press the station's service button
    timeout: 2
`,
};

/** A fast case from the core catalogue and the two above: one verdict of each (pass, fail, inconclusive). */
function writeSuite(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-ui-shots-'));
  mkdirSync(path.join(dir, 'bench'));
  copyFileSync('charger-tests/core/11-get-configuration-unknown-key.yaml', path.join(dir, 'bench', '01-unknown-key.yaml'));
  for (const [name, yaml] of Object.entries(CASES)) writeFileSync(path.join(dir, 'bench', name), yaml);
  return dir;
}

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).textContent()) ?? '';
}

async function signIn(page: Page, jwt: string, hash = ''): Promise<void> {
  await page.goto(`${gw().url}/${hash}`);
  await page.getByLabel('Access token (JWT)').fill(jwt);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await waitFor(async () => (await text(page, '#conn-text')) === 'Live', 'the live connection');
}

const written: string[] = [];
type Clip = { x: number; y: number; width: number; height: number };
/** A page's viewport, or with `clip` that part of the whole page; a locator's element. */
async function shoot(target: Page | Locator, name: string, clip?: Clip): Promise<void> {
  const file = path.join(OUT, `${name}.png`);
  // Animations off: the SOC ring's pulse would otherwise be caught mid-frame.
  const opts = { path: file, scale: 'css', animations: 'disabled' } as const;
  if (clip) await (target as Page).screenshot({ ...opts, fullPage: true, clip });
  else await target.screenshot(opts);
  written.push(file);
}

/** The part of the page from the top of `top` to the bottom of `bottom`, as wide as `top`, in page coordinates. */
async function spanClip(page: Page, top: string, bottom: string): Promise<Clip> {
  const [a, b] = await Promise.all([page.locator(top).boundingBox(), page.locator(bottom).boundingBox()]);
  if (!a || !b) throw new Error(`${top} or ${bottom} is not shown`);
  // boundingBox is relative to the viewport; a full-page clip is in page coordinates.
  const scrollY = Number(await page.evaluate('window.scrollY'));
  return { x: a.x, y: a.y + scrollY, width: a.width, height: b.y + b.height - a.y + 8 };
}

let ui: UiGateway | undefined;
let browser: TestBrowser | undefined;
const gw = (): UiGateway => ui!;
let casesDir: string | undefined;

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.error(`ui:screenshots needs Chromium at ${CHROMIUM} (apt-get install -y chromium); no screenshots were taken.`);
    process.exit(1);
  }
  mkdirSync(OUT, { recursive: true });
  casesDir = writeSuite();
  ui = await startUiGateway({ env: { SIM_STATIONS: '0', SIM_BOOT_DELAY_MS: '200', CHARGER_TESTS_DIR: casesDir } });
  const { url, gw: gateway } = ui;
  const sim = gateway.sim;
  // A small fleet with every kind of status: one rider charging (a meter value a second), one more charging, one
  // faulted, the rest idle.
  const fast = { MeterValueSampleInterval: '1' };
  sim.create({ id: RIDER, model: 'flashCharge', autopilot: false, config: fast });
  sim.create({ id: BENCH, autopilot: false });
  sim.create({ id: 'SIM-DEPOT-1', autopilot: false, config: fast });
  sim.create({ id: 'SIM-DEPOT-2', autopilot: false });
  sim.create({ id: 'SIM-DEPOT-3', autopilot: false, connectors: 2 });
  const ids = [RIDER, BENCH, 'SIM-DEPOT-1', 'SIM-DEPOT-2', 'SIM-DEPOT-3'];
  await waitFor(async () => ids.every((id) => gateway.relay.stations().some((s) => s.chargeBoxId === id)), 'the simulated stations', 30_000);
  await sleep(1000);
  await sim.act(RIDER, { type: 'start', connectorId: 1, vehicle: { model: 'Pro', initialSoc: 38, targetSoc: 100 } });
  await sim.act('SIM-DEPOT-1', { type: 'start', connectorId: 1, vehicle: { model: 'Classic', initialSoc: 62 } });
  await sim.act('SIM-DEPOT-2', { type: 'fault', connectorId: 1, errorCode: 'HighTemperature' });
  await sim.act('SIM-DEPOT-3', { type: 'plugIn', connectorId: 2 });

  browser = await launchBrowser();
  const context = browser.context;

  // Sign-in form, on a phone.
  const signInPage = await context.newPage();
  await signInPage.setViewportSize(PHONE);
  await signInPage.goto(url);
  await signInPage.locator('#sign-in').waitFor({ state: 'visible' });
  await shoot(signInPage.locator('#sign-in'), 'sign-in');
  await signInPage.close();

  // The rider's SOC screen on a phone, after some seconds of charging so the curves have points.
  const rider = await context.newPage();
  await rider.setViewportSize(PHONE);
  await signIn(rider, token({ sub: 'rider', role: 'viewer', chargers: [RIDER] }));
  await waitFor(async () => (await text(rider, '#st-status')) === 'Charging', 'the rider station charging', 20_000);
  await sleep(12_000);
  for (const colorScheme of ['light', 'dark'] as const) {
    await rider.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await sleep(300);
    await shoot(rider, `rider-soc-${colorScheme}`, await spanClip(rider, '#station-panel', '#rider'));
  }
  await rider.close();

  // The operator console: fleet and the selected station's detail, at desktop width.
  const op = await context.newPage();
  op.setDefaultTimeout(10_000);
  await op.setViewportSize(DESKTOP);
  await op.emulateMedia({ reducedMotion: 'reduce' });
  await signIn(op, token({ sub: 'operator' }), `#station=${RIDER}`);
  await waitFor(async () => (await text(op, '#st-title')) === RIDER, 'the operator station screen');
  await sleep(2000);
  await shoot(op, 'operator-console');

  // Bench testing on the bench station, a little narrower (smaller pictures): a drop rule and the frame it dropped,
  // marked injected in the message log.
  await op.setViewportSize(BENCH_VIEW);
  await op.locator(`.fleet-row[data-station="${BENCH}"]`).click();
  await waitFor(async () => (await text(op, '#st-title')) === BENCH, 'the bench station');
  await op.locator('#ff-station').fill(BENCH);
  await op.locator('#ff-live').click();
  await op.getByRole('tab', { name: 'Fault injection' }).click();
  await op.locator('#bp-faults').getByLabel('Kind').selectOption('drop');
  await op.locator('#bp-faults').getByLabel('Direction').selectOption('toUpstream');
  await op.locator('#fi-actions').fill('StatusNotification');
  await op.locator('#fi-seed').fill('7');
  await op.locator('#fi-duration').fill('120');
  await op.getByRole('button', { name: 'Add rule' }).click();
  await waitFor(async () => (await op.locator('#fi-rules li').count()) === 1, 'the rule in the list');
  await sim.act(BENCH, { type: 'plugIn', connectorId: 1 });
  await waitFor(async () => (await op.locator('#frame-rows tr.injected').count()) > 0, 'an injected frame');
  // The rule's counts as the gateway has them now.
  await op.locator('#fi-refresh').click();
  await waitFor(async () => !(await text(op, '#fi-rules li')).includes('acted on 0'), 'the rule to count the dropped frame');
  await op.locator('#bench').scrollIntoViewIfNeeded();
  await shoot(op.locator('#bench'), 'bench-fault-injection');
  await op.locator('#fi-clear-all').click();
  await waitFor(async () => gateway.relay.faults.list(BENCH).length === 0, 'the rule removed');
  await sim.act(BENCH, { type: 'plugOut', connectorId: 1 });
  await op.locator('#ff-live').click();

  // A test run to its verdicts, one opened with its evidence.
  await op.getByRole('tab', { name: 'Test runs' }).click();
  await waitFor(async () => (await op.locator('input[name="ct-case"]').count()) === 3, 'the cases of the suite');
  await op.getByRole('button', { name: 'Start the run' }).click();
  await waitFor(async () => (await text(op, '#ct-run-title')).includes('finished'), 'the run to finish', 60_000);
  // Up to the end of the run; the list of earlier runs below it adds nothing here.
  await op.locator('#bench').scrollIntoViewIfNeeded();
  await shoot(op, 'bench-test-runs', await spanClip(op, '#bench', '#ct-run'));

  // The message log: the run's GetConfiguration requests read back from the log, each paired with its answer.
  await op.locator('#ff-clear').click();
  await op.locator('#ff-action').fill('GetConfiguration');
  await op.locator('#ff-load').click();
  await waitFor(async () => (await op.locator('#frame-rows tr').count()) >= 4, 'the GetConfiguration frames');
  await op.locator('#frame-rows details summary').first().click();
  await op.locator('#frames').scrollIntoViewIfNeeded();
  await shoot(op.locator('#frames'), 'message-log');
  await op.close();

  let total = 0;
  for (const file of written) {
    const kb = statSync(file).size / 1024;
    total += kb;
    console.log(`${path.relative(process.cwd(), file)}  ${kb.toFixed(0)} KB${kb > 150 ? '  (over the 150 KB target)' : ''}`);
  }
  console.log(`${written.length} screenshots, ${total.toFixed(0)} KB in all`);
}

try {
  await main();
} catch (err) {
  console.error(`ui:screenshots failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
  await ui?.close();
  if (casesDir) rmSync(casesDir, { recursive: true, force: true });
}
