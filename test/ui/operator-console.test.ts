// The operator console in a real Chromium against a real gateway with 1,000 stations (events on the gateway's
// bus, as the binlog or the relay would put them there) and one real station over WebSocket: the fleet table
// finds one station among 1,000, the page stays connected through the load, an OCPP action is sent from the
// form built from its schema, the message log pairs a request with its answer, a silent connection is noticed
// and recovered, axe-core finds nothing in light and dark themes, nothing spills at 390 px, and the console
// stays clean. Screenshots go to test-artifacts/ui/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { EventInput } from '../../src/events/catalogue.js';
import { connectBenchStation, type BenchStation } from './support/bench-station.js';
import { launchBrowser, type TestBrowser, countSocketUpgrades } from './support/browser.js';
import { ARTIFACTS, axeViolations, collectErrors, screenshot, waitFor } from './support/page-checks.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const FLEET = Array.from({ length: 1000 }, (_, i) => `FLEET_${String(i).padStart(4, '0')}`);
const REAL = 'OPS_REAL_01';
const STATUSES = ['Available', 'Charging', 'Preparing', 'Available', 'Faulted'] as const;
const FAULTED = FLEET.filter((_, i) => STATUSES[i % STATUSES.length] === 'Faulted').length;

let ui: UiGateway;
let browser: TestBrowser;
let station: BenchStation;
let page: Page;
let errors: string[];
let n = 0;
const now = (): string => new Date().toISOString();
const base = (chargeBoxId: string) => ({ id: `ops-${++n}`, chargeBoxId, timestamp: now(), receivedAt: now(), source: 'station' as const });

const text = async (selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';
const state = async (): Promise<string | null> => page.locator('#conn-state').getAttribute('data-state');

beforeAll(async () => {
  ui = await startUiGateway({ callTimeoutMs: 5000, env: { PUSH_METRICS_INTERVAL_MS: '500' } });
  browser = await launchBrowser();
  for (const [i, id] of FLEET.entries()) {
    ui.gw.bus.emit('eventInput', { ...base(id), type: 'stationConnected', data: { linkKind: i % 2 ? 'ws' : 'sim', upstream: i % 3 ? 'local' : 'steve' } } satisfies EventInput);
    ui.gw.bus.emit('eventInput', { ...base(id), type: 'status', connectorId: 1, data: { status: STATUSES[i % STATUSES.length] ?? 'Available', errorCode: 'NoError', synthetic: false } } satisfies EventInput);
    if (i % 100 === 7) ui.gw.bus.emit('eventInput', { ...base(id), type: 'finding', data: { rule: 'schema', message: 'MeterValues.meterValue[0].timestamp is not a date-time' } } satisfies EventInput);
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  station = await connectBenchStation(ui.gw.wsUrl(REAL));
  station.answers.set('TriggerMessage', { status: 'Accepted' });
  await station.boot();
  await station.status(1, 'Available');
  page = await browser.context.newPage();
  errors = collectErrors(page);
}, 90_000);

afterAll(async () => {
  station?.client.close();
  await browser?.close();
  await ui?.close();
});

describe('operator console', () => {
  it('loads 1,000 stations without being cut off, renders only the rows in view, and finds one by search and filters', async () => {
    const upgrades = countSocketUpgrades(ui.gw.httpServer);
    await page.goto(ui.url);
    await page.evaluate(`(() => {
      const el = document.querySelector('#conn-state');
      window.connStates = [];
      new MutationObserver(() => window.connStates.push(el.getAttribute('data-state'))).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    })()`);
    await page.getByLabel('Access token (JWT)').fill(token({ sub: 'fleet-operator' }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitFor(async () => (await state()) === 'connected', 'Live');
    await waitFor(async () => (await text('#fleet-shown')).startsWith('1001 of 1001 stations'), '1001 stations in the fleet table', 60_000);

    // Live traffic for a while: the page keeps its one connection, and takes it as fleet entries (one message a
    // second), not as 2,400 events: it follows every event of the shown station only.
    const pushedBefore = ui.push.stats().pushed;
    const end = Date.now() + 6000;
    while (Date.now() < end) {
      for (const [i, id] of FLEET.slice(0, 100).entries()) {
        ui.gw.bus.emit('eventInput', { ...base(id), type: 'status', connectorId: 1, data: { status: STATUSES[i % STATUSES.length] ?? 'Available', errorCode: 'NoError', synthetic: false } } satisfies EventInput);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const states = (await page.evaluate('window.connStates')) as string[];
    expect(states.slice(states.indexOf('connected')).filter((s) => s !== 'connected')).toEqual([]);
    expect(ui.push.stats().disconnects.slowConsumer).toBe(0);
    expect(upgrades()).toBe(1);
    const stats = ui.push.stats();
    expect(stats.subscriptions).toMatchObject({ all: 0, fleet: 1, stations: 1 });
    expect(stats.pushed.events - pushedBefore.events).toBeLessThan(100);
    expect(stats.pushed.fleet - pushedBefore.fleet).toBeGreaterThanOrEqual(4);
    expect(stats.pushed.fleet - pushedBefore.fleet).toBeLessThanOrEqual(8);

    // Virtualised: a few dozen rows in the DOM, not 1,001.
    const rows = await page.locator('.fleet-row').count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(80);
    expect(await text('#fleet-counts')).toContain(`Faulted ${FAULTED}`);

    await page.getByLabel('Search').fill('FLEET_0777');
    await waitFor(async () => (await text('#fleet-shown')).startsWith('1 of 1001'), 'one station shown');
    await page.locator('.fleet-row[data-station="FLEET_0777"]').click();
    await waitFor(async () => (await text('#st-title')).includes('FLEET_0777'), 'FLEET_0777 selected');

    await page.getByLabel('Search').fill('');
    await page.locator('#fl-status').selectOption('Faulted');
    await waitFor(async () => (await text('#fleet-shown')).startsWith(`${FAULTED} of 1001`), 'faulted stations only');
    await page.locator('#fl-status').selectOption('any');
    await page.locator('#fl-findings').selectOption('yes');
    await waitFor(async () => (await text('#fleet-shown')).startsWith('10 of 1001'), 'stations with findings');
    await page.locator('#fl-findings').selectOption('any');
    await page.locator('#fl-link').selectOption('sim');
    await waitFor(async () => (await text('#fleet-shown')).startsWith('500 of 1001'), 'simulated links only');
    await page.locator('#fl-link').selectOption('any');
    // Upstream: the real station's state comes from the relay (GET /api/stations), the others' from their events.
    await page.locator('#fl-upstream').selectOption('local');
    await waitFor(async () => (await text('#fleet-shown')).startsWith('667 of 1001'), 'local upstreams');
    await page.locator('#fl-upstream').selectOption('open');
    await waitFor(async () => (await text('#fleet-shown')).startsWith('0 of 1001'), 'no open SteVe link');
    await page.locator('#fl-upstream').selectOption('any');

    // Keyboard: End reaches the last of 1,001 rows although it was not in the DOM.
    await page.locator('.fleet-row').first().focus();
    await page.keyboard.press('End');
    await waitFor(async () => (await page.evaluate('document.activeElement?.dataset?.station')) === REAL, 'focus on the last row');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await text('#st-title')).includes(REAL), `${REAL} selected by keyboard`);
    await screenshot(page, 'operator-fleet');
  }, 180_000);

  it('sends a TriggerMessage from the form built from its schema and shows the answer and the round trip; a bad form is refused naming the field', async () => {
    await page.getByLabel('Search').fill(REAL);
    await page.locator(`.fleet-row[data-station="${REAL}"]`).click();
    await waitFor(async () => (await text('#st-title')).includes(REAL), `${REAL} selected`);
    // The frame stream runs meanwhile, so the log view sees the request and its answer.
    await page.getByRole('button', { name: 'Start stream' }).click();

    await waitFor(async () => (await page.locator('#oa-action option').count()) >= 19, 'the 19 central-system actions');
    await page.locator('#oa-action').selectOption('UnlockConnector');
    await page.getByRole('button', { name: 'Send to the station' }).click();
    await waitFor(async () => (await text('#oa-result')).includes('connectorId is required'), 'the missing field named');
    expect(await page.evaluate('document.activeElement?.dataset?.path')).toBe('connectorId');
    expect(station.calls('UnlockConnector')).toEqual([]);

    // The connector's own Trigger button fills the form for connector 1.
    await page.getByRole('button', { name: 'Trigger (TriggerMessage) on connector 1' }).click();
    expect(await page.locator('#oa-action').inputValue()).toBe('TriggerMessage');
    await page.getByLabel('requestedMessage').selectOption('StatusNotification');
    expect(await page.getByLabel('connectorId').inputValue()).toBe('1');
    await page.getByRole('button', { name: 'Send to the station' }).click();
    await waitFor(async () => /TriggerMessage: Accepted by the station .*Round trip \d+ ms/.test(await text('#oa-result')), 'Accepted with the round trip', 20_000);
    expect(station.calls('TriggerMessage')).toEqual([{ requestedMessage: 'StatusNotification', connectorId: 1 }]);
    expect(await text('#oa-answer')).toContain('"Accepted"');
    await screenshot(page, 'operator-ocpp-action');
  }, 60_000);

  it('pairs the request with its answer in the message log, live and when read back from the log', async () => {
    const callRow = page.locator('#frame-rows tr[data-type="CALL"]', { hasText: 'TriggerMessage' }).first();
    await waitFor(async () => (await callRow.count()) > 0 && (await callRow.getAttribute('data-paired')) !== null, 'the live CALL paired');
    const answerId = await callRow.getAttribute('data-paired');
    const answerRow = page.locator(`#frame-${answerId}`);
    expect(await answerRow.getAttribute('data-type')).toBe('CALLRESULT');
    expect(await callRow.locator('.pair').textContent()).toContain('answer: Accepted');
    expect(await answerRow.locator('.pair').textContent()).toContain('request: TriggerMessage');

    // From the log alone: clear the table, pause, read the history back.
    await page.getByRole('button', { name: 'Pause stream' }).click();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('button', { name: 'Load earlier from log' }).click();
    const readBack = page.locator('#frame-rows tr[data-type="CALL"]', { hasText: 'TriggerMessage' }).first();
    await waitFor(async () => (await readBack.count()) > 0 && (await readBack.getAttribute('data-paired')) === answerId, 'the CALL read back paired with the same answer');
    // The frame opens as a JSON tree.
    await readBack.locator('summary').click();
    await waitFor(async () => ((await readBack.locator('.jt-root').textContent()) ?? '').includes('requestedMessage'), 'the JSON tree');
    await screenshot(page, 'operator-message-log');
  }, 60_000);

  it('draws health and metrics live from the metrics subscription', async () => {
    await waitFor(async () => /\d+ samples/.test(await text('#om-at')), 'metrics samples');
    await waitFor(async () => /(\d+) samples/.exec(await text('#om-at'))?.[1] !== '1', 'a second sample');
    expect(await text('[data-metric="rtt"] .om-now')).toMatch(/p50 .* p95 .* p99/);
    expect(await text('[data-metric="links"] .om-now')).toContain('ws 1');
    expect(await text('[data-metric="binlog"] .om-now')).toMatch(/off|\w+/);
    const points = await page.locator('[data-metric="fps"] polyline').first().getAttribute('points');
    expect((points ?? '').split(' ').length).toBeGreaterThan(1);
    await page.locator('#ops-metrics').screenshot({ path: `${ARTIFACTS}/operator-metrics.png` });
  }, 30_000);

  it('notices a silent connection within 10 s and recovers by itself', async () => {
    expect(await state()).toBe('connected');
    const frozenAt = Date.now();
    ui.freezeBrowsers();
    await waitFor(async () => (await state()) !== 'connected', 'the page to notice', 20_000);
    const noticedMs = Date.now() - frozenAt;
    expect(noticedMs).toBeLessThan(12_000);
    expect(await text('#conn-text')).toContain('went silent');
    await waitFor(async () => (await state()) === 'connected', 'Live again', 30_000);
    await waitFor(async () => (await text('#fleet-shown')).includes('of 1001'), 'the fleet after the reconnect');
  }, 60_000);

  it('has no axe-core violations in light and dark themes', async () => {
    await page.getByLabel('Search').fill('');
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await new Promise((r) => setTimeout(r, 300));
      const violations = await axeViolations(page);
      expect(violations, `${colorScheme}: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
      await screenshot(page, `operator-${colorScheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }, 60_000);

  it('is no wider than a 390 px screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await new Promise((r) => setTimeout(r, 300));
    const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    await screenshot(page, 'operator-390');
    expect(width).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it('the sign-in screen: no axe-core violations in either theme, no wider than 390 px, no console errors', async () => {
    const p = await browser.context.newPage();
    const signInErrors = collectErrors(p);
    await p.setViewportSize({ width: 390, height: 844 });
    await p.goto(ui.url);
    await waitFor(async () => p.getByLabel('Access token (JWT)').isVisible(), 'the sign-in form');
    await waitFor(async () => p.getByRole('button', { name: 'Dev sign-in (operator)' }).isVisible(), 'the dev sign-in button');
    for (const colorScheme of ['light', 'dark'] as const) {
      await p.emulateMedia({ colorScheme });
      expect(await axeViolations(p), colorScheme).toEqual([]);
      await screenshot(p, `sign-in-390-${colorScheme}`);
    }
    expect((await p.evaluate('document.documentElement.scrollWidth')) as number).toBeLessThanOrEqual(390);
    expect(signInErrors).toEqual([]);
    await p.close();
  }, 30_000);

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });

  it('notices a gateway restart and is Live again on the new process, with the same token', async () => {
    const port = ui.gw.port;
    const dataDir = ui.gw.dataDir;
    station.client.close();
    await ui.close();
    await waitFor(async () => (await state()) !== 'connected', 'the page to notice the restart', 15_000);
    ui = await startUiGateway({ callTimeoutMs: 5000, env: { PORT: String(port), DATA_DIR: dataDir } });
    ui.gw.bus.emit('eventInput', { ...base('AFTER_RESTART'), type: 'status', connectorId: 1, data: { status: 'Available', errorCode: 'NoError', synthetic: false } } satisfies EventInput);
    await waitFor(async () => (await state()) === 'connected', 'Live after the restart', 30_000);
    await waitFor(async () => (await text('#fleet-shown')).includes('of 1002'), 'a station of the new process in the fleet');
    // While the gateway was down Chromium logs the refused WebSocket dials (and a REST read that raced the close,
    // as net::ERR_CONNECTION_REFUSED); nothing else.
    expect(errors.filter((e) => !/WebSocket connection to .* failed|net::ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
  }, 60_000);
});
