// A page that falls further behind than the gateway's history reaches gets a `gap` notice: it says so in the
// station's feed, takes a fresh snapshot (the station shows its newest status) and stays connected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/events/catalogue.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const STATION = 'GAP_UI_01';
let ui: UiGateway;
let browser: TestBrowser;
let n = 0;
const statusInput = (status: string): EventInput => ({
  id: `gap-ui-${++n}`,
  type: 'status',
  chargeBoxId: STATION,
  connectorId: 1,
  timestamp: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  receivedAt: new Date().toISOString(),
  source: 'station',
  data: { status, errorCode: 'NoError', synthetic: false },
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
  // A tiny history and one engine packet per socket: a burst leaves the page far behind what is kept. Direct
  // writes are off: on loopback the page reads as fast as they write, so it would never fall behind.
  ui = await startUiGateway({ env: { EVENTS_HISTORY_PER_STATION: '10', PUSH_SOCKET_BUFFER_PACKETS: '1', PUSH_DIRECT_WRITES: 'false' } });
  browser = await launchBrowser();
  for (const s of ['Available', 'Preparing', 'Charging']) ui.gw.bus.emit('eventInput', statusInput(s));
});

afterAll(async () => {
  await browser?.close();
  await ui?.close();
});

describe('gap notice in the UI', () => {
  it('notes the gap in the feed, shows the newest state from a fresh snapshot, stays connected', async () => {
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(ui.url);
    await page.getByLabel('Access token (JWT)').fill(token({ sub: 'gap-tester' }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitFor(async () => (await page.locator('#conn-state').getAttribute('data-state')) === 'connected', 'Live');
    await page.locator(`.station-card[data-station="${STATION}"]`).click();
    await waitFor(async () => ((await page.locator('#st-status').textContent()) ?? '').includes('Charging'), 'Charging');

    // 2,000 events at once: the history keeps the last few, the page is written one packet at a time.
    for (let i = 0; i < 1999; i++) ui.gw.bus.emit('eventInput', statusInput(i % 2 ? 'SuspendedEV' : 'SuspendedEVSE'));
    ui.gw.bus.emit('eventInput', statusInput('Finishing'));

    await waitFor(async () => ((await page.locator('#st-status').textContent()) ?? '').includes('Finishing'), 'Finishing');
    await waitFor(async () => ((await page.locator('#event-feed').textContent()) ?? '').includes('no longer in the gateway history'), 'no longer in the gateway history');
    // The gap is also a notice above the page that stays until dismissed.
    const notice = page.locator('.notice.sticky', { hasText: 'were missed' }).first();
    await waitFor(async () => (await notice.count()) > 0, 'the gap notice');
    await new Promise((r) => setTimeout(r, 9000)); // longer than a passing notice lives
    expect(await notice.isVisible()).toBe(true);
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await waitFor(async () => (await page.locator('.notice.sticky', { hasText: 'were missed' }).count()) === 0, 'the notice dismissed');
    expect(ui.push.stats().dropped.eventsDropped).toBeGreaterThan(0);
    expect(ui.push.stats().disconnects.slowConsumer).toBe(0);
    expect(await page.locator('#conn-state').getAttribute('data-state')).toBe('connected');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);
});
