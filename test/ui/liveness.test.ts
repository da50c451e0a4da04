// The page's liveness probe against a real gateway: a quiet gateway (no events, no metrics) keeps the page Live on
// its first connection, because the `alive` probe is answered; only an unanswered probe means a dead link
// (operator-console.test.ts freezes one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser, countSocketUpgrades } from './support/browser.js';
import { collectErrors, waitFor } from './support/page-checks.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

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
});
