// The operator page in a real Chromium with 200 stations that have history (60 events each): on load it
// subscribes to all of them (one ack with 200 snapshots) and reads back the selected station's last 50 events,
// while live events keep coming. It must stay connected from load on: no goodbye, no reconnect, one Socket.IO
// connection for the whole run. (operator-console.test.ts does the same with 1,000 stations.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { EventInput } from '../../src/events/catalogue.js';
import { launchBrowser, type TestBrowser, countSocketUpgrades } from './support/browser.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const STATIONS = Array.from({ length: 200 }, (_, i) => `LOAD_${String(i).padStart(3, '0')}`);
const WATCH_MS = 10_000;

let ui: UiGateway;
let browser: TestBrowser;
let n = 0;
const now = (): string => new Date().toISOString();
const statusInput = (chargeBoxId: string, status: string): EventInput => ({
  id: `load-st-${++n}`,
  type: 'status',
  chargeBoxId,
  connectorId: 1,
  timestamp: now(),
  receivedAt: now(),
  source: 'station',
  data: { status, errorCode: 'NoError', synthetic: false },
});
const meterInput = (chargeBoxId: string, wh: number): EventInput => ({
  id: `load-mv-${++n}`,
  type: 'meterValues',
  chargeBoxId,
  connectorId: 1,
  timestamp: now(),
  receivedAt: now(),
  source: 'station',
  data: {
    sampledValues: [
      { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
      { value: '73.4', measurand: 'Voltage', unit: 'V' },
      { value: '12.5', measurand: 'Current.Import', unit: 'A' },
      { value: String(40 + (wh % 50)), measurand: 'SoC', unit: 'Percent' },
    ],
  },
});

/** Polls from the test side: the page's CSP forbids the string predicates of waitForFunction. */
async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  ui = await startUiGateway();
  browser = await launchBrowser();
  // 60 events per station, as a gateway that has been running a while holds them.
  for (let round = 0; round < 60; round++) {
    for (const id of STATIONS) ui.gw.bus.emit('eventInput', round % 6 === 0 ? statusInput(id, round % 12 ? 'Charging' : 'Preparing') : meterInput(id, round * 10));
    await new Promise((r) => setImmediate(r));
  }
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
});

describe('operator page under load', () => {
  it('loads with 200 stations with history and stays connected, with live events flowing', async () => {
    const upgrades = countSocketUpgrades(ui.gw.httpServer);
    const page: Page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const pushedBefore = ui.push.stats().pushed.events;

    await page.goto(ui.url);
    // Every state the connection indicator takes from sign-in on.
    await page.evaluate(`(() => {
      const el = document.querySelector('#conn-state');
      window.connStates = [];
      new MutationObserver(() => window.connStates.push(el.getAttribute('data-state'))).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    })()`);
    await page.getByLabel('Access token (JWT)').fill(token({ sub: 'load-operator' }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitFor(async () => (await page.locator('#conn-state').getAttribute('data-state')) === 'connected', 'Live');
    await waitFor(async () => ((await page.locator('#fleet-shown').textContent()) ?? '').startsWith(`${STATIONS.length} of ${STATIONS.length} stations`), 'every station in the fleet table');

    // Live traffic while the page backfills and for the whole watch.
    const end = Date.now() + WATCH_MS;
    let wh = 10_000;
    while (Date.now() < end) {
      for (const id of STATIONS.slice(0, 20)) ui.gw.bus.emit('eventInput', meterInput(id, wh++));
      await new Promise((r) => setTimeout(r, 100));
    }

    const states = (await page.evaluate('window.connStates')) as string[];
    const fromLoad = states.slice(states.indexOf('connected'));
    expect(fromLoad.length).toBeGreaterThan(0);
    expect(fromLoad.filter((s) => s !== 'connected')).toEqual([]);
    expect(await page.locator('#conn-state').getAttribute('data-state')).toBe('connected');
    const stats = ui.push.stats();
    expect(stats.disconnects.slowConsumer).toBe(0);
    expect(stats.clients.total).toBe(1);
    expect(upgrades()).toBe(1);
    // The selected station's feed (50 events) was read back besides the live events.
    expect(stats.pushed.events - pushedBefore).toBeGreaterThanOrEqual(50);
    expect(await page.locator('#event-feed li').count()).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
