// Mirror upstreams in the operator console: the metrics panel's tile shows each mirror's links, lag and drops, and
// the frame stream shows a mirror's refused call as a note tagged with the mirror's id, not as a finding.
// Real Chromium, real gateway, a real station and a real mirror central system over WebSocket.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startMirrorCs, type MirrorCs } from '../support/mirror-cs.js';
import { collectPageErrors, launchBrowser, type TestBrowser } from './support/browser.js';
import { connectBenchStation, type BenchStation } from './support/bench-station.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const STATION = 'MIRROR_UI_01';
let mirror: MirrorCs;
let ui: UiGateway;
let browser: TestBrowser;
let station: BenchStation;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  mirror = await startMirrorCs();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-mirror-ui-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ mirrors: [{ id: 'shadow', url: mirror.url }] }));
  ui = await startUiGateway({ env: { CONFIG_FILE: path.join(dir, 'config.json'), PUSH_METRICS_INTERVAL_MS: '500' } });
  browser = await launchBrowser();
  station = await connectBenchStation(ui.gw.wsUrl(STATION));
  await station.boot();
  page = await browser.context.newPage();
  collectPageErrors(page, pageErrors);
}, 60_000);
afterAll(async () => {
  station?.client.close();
  await browser?.close();
  await ui?.close();
  await mirror?.close();
});

it("shows each mirror's state, lag and drops, and its refused call as a tagged note", async () => {
  await page.goto(ui.url);
  await page.getByLabel('Access token (JWT)').fill(token({ role: 'operator', sub: 'ui-op' }));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('#conn-text', { hasText: 'Live' }).waitFor({ timeout: 10_000 });
  await page.locator('[data-metric="mirrors"] .om-now', { hasText: 'shadow open 1/1 · lag 0 ms · dropped 0' }).waitFor({ timeout: 10_000 });

  await page.getByLabel('Action', { exact: true }).fill('Reset');
  await page.getByRole('button', { name: 'Start stream' }).click();
  await page.locator('#ff-count', { hasText: /frames shown$/ }).waitFor({ timeout: 10_000 });
  mirror.send(STATION, [2, 'ui-1', 'Reset', { type: 'Soft' }]);
  const rows = page.locator('#frame-rows tr', { hasText: 'mirror shadow' });
  await rows.nth(1).waitFor({ timeout: 10_000 }); // the mirror's call and the gateway's refusal
  expect(await rows.first().textContent()).toContain('Reset');
  expect(await page.locator('#frame-rows tr.has-finding').count()).toBe(0);
  await page.locator('#ops-metrics').screenshot({ path: '/tmp/chargebridge-ui-mirror-tile.png' });
  expect(pageErrors).toEqual([]);
}, 60_000);
