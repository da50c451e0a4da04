// The bench UI's frame stream with fault injection: a frame a rule acted on shows up tagged `injected` with the
// rule's id, next to the frames relayed as usual. Real Chromium, real gateway, real station WebSocket.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { connectBenchStation, type BenchStation } from './support/bench-station.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const STATION = 'FAULT_UI_01';
let ui: UiGateway;
let browser: TestBrowser;
let station: BenchStation;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  ui = await startUiGateway();
  browser = await launchBrowser();
  station = await connectBenchStation(ui.gw.wsUrl(STATION));
  await station.boot();
  page = await browser.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
});
afterAll(async () => {
  station?.client.close();
  await browser?.close();
  await ui?.close();
});

it('shows frames a fault rule answered, tagged injected with the rule id', async () => {
  await page.goto(ui.url);
  await page.getByLabel('Access token (JWT)').fill(token({ role: 'operator', sub: 'ui-op' }));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#conn-text', { hasText: 'Live' }).waitFor({ timeout: 10_000 });
  await page.getByLabel('Action', { exact: true }).fill('Authorize');
  await page.getByRole('button', { name: 'Start stream' }).click();
  await page.locator('#ff-count', { hasText: /frames shown$/ }).waitFor({ timeout: 10_000 });

  const res = await fetch(`${ui.url}/api/stations/${STATION}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token({ role: 'operator', sub: 'ui-op' })}` },
    body: JSON.stringify({ kind: 'answer', actions: ['Authorize'], answer: { idTagStatus: 'Blocked' } }),
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  expect((await station.client.call('Authorize', { idTag: 'UI_TAG' }))[2]).toEqual({ idTagInfo: { status: 'Blocked' } });

  const injectedRows = page.locator('#frame-rows tr', { hasText: `injected ${id}` });
  await injectedRows.nth(1).waitFor({ timeout: 10_000 }); // the station's call and the rule's answer
  expect(await injectedRows.first().textContent()).toContain('Authorize');
  // What a rule did is a note, not a finding: the rows are not marked as findings.
  expect(await page.locator('#frame-rows tr.has-finding').count()).toBe(0);
  await page.locator('#frames').screenshot({ path: '/tmp/chargebridge-ui-fault-frames.png' });
  expect(pageErrors).toEqual([]);
}, 60_000);
