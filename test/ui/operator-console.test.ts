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
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { axeViolations, collectErrors, screenshot, waitFor } from './support/page-checks.js';
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
  ui = await startUiGateway({ callTimeoutMs: 5000 });
  browser = await launchBrowser();
  for (const [i, id] of FLEET.entries()) {
    ui.gw.bus.emit('eventInput', { ...base(id), type: 'stationConnected', data: { linkKind: i % 2 ? 'ws' : 'sim', upstream: i % 3 ? 'local' : 'steve' } } satisfies EventInput);
    ui.gw.bus.emit('eventInput', { ...base(id), type: 'status', connectorId: 1, data: { status: STATUSES[i % STATUSES.length], errorCode: 'NoError', synthetic: false } } satisfies EventInput);
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
    let upgrades = 0;
    ui.gw.httpServer.on('upgrade', (req) => {
      if (req.url?.startsWith('/socket.io/')) upgrades++;
    });
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

    // Live traffic for a while: the page keeps its one connection.
    const end = Date.now() + 6000;
    while (Date.now() < end) {
      for (const [i, id] of FLEET.slice(0, 100).entries()) {
        ui.gw.bus.emit('eventInput', { ...base(id), type: 'status', connectorId: 1, data: { status: STATUSES[i % STATUSES.length], errorCode: 'NoError', synthetic: false } } satisfies EventInput);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const states = (await page.evaluate('window.connStates')) as string[];
    expect(states.slice(states.indexOf('connected')).filter((s) => s !== 'connected')).toEqual([]);
    expect(ui.push.stats().disconnects.slowConsumer).toBe(0);
    expect(upgrades).toBe(1);

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

    // Keyboard: End reaches the last of 1,001 rows although it was not in the DOM.
    await page.locator('.fleet-row').first().focus();
    await page.keyboard.press('End');
    await waitFor(async () => (await page.evaluate('document.activeElement?.dataset?.station')) === REAL, 'focus on the last row');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await text('#st-title')).includes(REAL), `${REAL} selected by keyboard`);
    await screenshot(page, 'operator-fleet');
  }, 180_000);
});
