// The sign-in page in Chromium against a real gateway: the hint speaks to riders and operators, and every
// refusal says where to get a new token in the way that fits the role of the token in hand (a rider asks the
// operator, an operator runs the token command). Nothing on the page is Markdown: no backticks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { collectErrors, waitFor } from './support/page-checks.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const OTHER_KEY = 'another-gateway-secret-0123456789-abcdef';
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

async function signInWith(page: Page, jwt: string): Promise<string> {
  await page.getByLabel('Access token (JWT)').fill(jwt);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const error = page.locator('#sign-in-error');
  await waitFor(async () => (await error.isVisible()) && ((await error.textContent()) ?? '') !== '', 'the refusal on the sign-in form', 15_000);
  return (await error.textContent()) ?? '';
}

describe('sign-in hints', () => {
  it('tells riders and operators where a token comes from, and every refusal fits the role of the token', async () => {
    const page = await browser.context.newPage();
    const errors = collectErrors(page);
    await page.goto(ui.url);
    const section = page.locator('#sign-in');
    await waitFor(async () => section.isVisible(), 'the sign-in form');
    const hint = (await page.locator('#token-hint').textContent()) ?? '';
    expect(hint).toMatch(/Riders: paste the token the operator of your charger gave you/);
    expect(hint).toContain('npm run token -- --role operator');

    const shown: string[] = [await section.innerText()];
    // Expired, found before connecting: a rider is sent to the operator, an operator to the command.
    const expiredViewer = await signInWith(page, token({ sub: 'rider', role: 'viewer', chargers: ['CP_R'] }, { expiresIn: -60 }));
    expect(expiredViewer).toContain('The token has expired. Ask the operator of your charger for a new one');
    expect(expiredViewer).not.toContain('npm run token');
    shown.push(await section.innerText());
    const expiredOperator = await signInWith(page, token({ sub: 'op', role: 'operator' }, { expiresIn: -60 }));
    expect(expiredOperator).toContain('The token has expired. Get a new one: on the gateway machine run "npm run token -- --role operator"');
    expect(expiredOperator).not.toContain('Ask the operator');
    shown.push(await section.innerText());

    // Signed with another key, refused by the gateway in the handshake: the rider is not told about JWT_SECRET.
    const foreignViewer = await signInWith(page, token({ sub: 'rider', role: 'viewer', chargers: ['CP_R'] }, { secret: OTHER_KEY }));
    expect(foreignViewer).toContain('Ask the operator of your charger for a new one');
    expect(foreignViewer).not.toMatch(/JWT_SECRET|npm run token/);
    shown.push(await section.innerText());
    await waitFor(async () => page.getByLabel('Access token (JWT)').isVisible(), 'the sign-in form again');
    const foreignOperator = await signInWith(page, token({ sub: 'op', role: 'operator' }, { secret: OTHER_KEY }));
    expect(foreignOperator).toMatch(/JWT_SECRET.*npm run token -- --role operator/);
    shown.push(await section.innerText());

    // A garbled paste has no role: both ways are named.
    const garbled = await signInWith(page, 'not-a-token');
    expect(garbled).toMatch(/Riders: ask the operator.*Operators: on the gateway machine run/);
    shown.push(await section.innerText());

    for (const text of shown) expect(text).not.toContain('`');
    expect(errors.filter((e) => !/WebSocket|status of 4\d\d/.test(e))).toEqual([]);
    await page.close();
  }, 60_000);
});
