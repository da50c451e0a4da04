// The page's liveness probe against a real gateway: a quiet gateway (no events, no metrics) keeps the page Live on
// its first connection, because the `alive` probe is answered; a connection that goes silent both ways without
// closing is noticed within 10 s (the page never shows Live with frozen values for longer) and recovered by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, countSocketUpgrades } from './support/browser.js';
import { collectErrors, waitFor } from './support/page-checks.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';
import type { EventInput } from '../../src/events/catalogue.js';

let ui: UiGateway;
let browser: TestBrowser;

beforeAll(async () => {
  ui = await startUiGateway();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await ui?.close();
});

describe('liveness probe', () => {
  it('keeps a page on a quiet gateway Live on one connection for 15 s', async () => {
    const upgrades = countSocketUpgrades(ui.gw.httpServer);
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    await page.goto(ui.url);
    await page.evaluate(`(() => {
      const el = document.querySelector('#conn-state');
      window.connStates = [];
      new MutationObserver(() => window.connStates.push(el.getAttribute('data-state'))).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    })()`);
    await page.getByLabel('Access token (JWT)').fill(token({ sub: 'quiet', role: 'viewer', chargers: ['QUIET_1'] }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitFor(async () => (await page.locator('#conn-state').getAttribute('data-state')) === 'connected', 'Live');
    await new Promise((r) => setTimeout(r, 15_000));
    const states = (await page.evaluate('window.connStates')) as string[];
    expect(states.slice(states.indexOf('connected'))).toEqual(['connected']);
    expect(upgrades()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  it('notices a silently dead connection within 10 s, says so, and is Live again with current values', async () => {
    let n = 0;
    const status = (s: string): EventInput => ({
      id: `frozen-${++n}`, type: 'status', chargeBoxId: 'QUIET_1', connectorId: 1, timestamp: new Date().toISOString(), receivedAt: new Date().toISOString(),
      source: 'station', data: { status: s, errorCode: 'NoError', synthetic: false },
    });
    ui.gw.bus.emit('eventInput', status('Available'));
    const page = await browser.context.newPage();
    await page.goto(ui.url);
    await page.getByLabel('Access token (JWT)').fill(token({ sub: 'frozen', role: 'viewer', chargers: ['QUIET_1'] }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await waitFor(async () => (await page.locator('#conn-state').getAttribute('data-state')) === 'connected', 'Live');
    // Different moments relative to the last packet heard: right after it, and well into the quiet time.
    for (const [offsetMs, meanwhile] of [[0, 'Charging'], [2200, 'Finishing']] as const) {
      await new Promise((r) => setTimeout(r, offsetMs));
      const frozenAt = Date.now();
      ui.freezeBrowsers();
      // The station moves on while the page hears nothing.
      ui.gw.bus.emit('eventInput', status(meanwhile));
      await waitFor(async () => (await page.locator('#conn-state').getAttribute('data-state')) !== 'connected', 'the page to notice', 20_000);
      const noticedMs = Date.now() - frozenAt;
      expect(noticedMs).toBeLessThan(10_000);
      expect(await page.locator('#conn-text').textContent()).toContain('went silent');
      await waitFor(async () => (await page.locator('#conn-state').getAttribute('data-state')) === 'connected', 'Live again', 20_000);
      await waitFor(async () => ((await page.locator('#st-status').textContent()) ?? '').includes(meanwhile), `${meanwhile} after the reconnect`);
    }
    await page.close();
  }, 60_000);
});
