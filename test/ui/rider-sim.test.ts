// The rider's screen on a phone following one of the gateway's own simulated stations on a fast clock (×30): a
// Classic pack charges from 90 % through the CC/CV taper until it stops taking charge, then the EV leaves. The time to
// full shrinks, the curve grows, and the end-of-charge summary appears with the session's figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser, collectPageErrors } from './support/browser.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const STATION = 'SIM-RIDER';
const SPEED = 30;
let ui: UiGateway;
let browser: TestBrowser;
let page: Page;
const pageErrors: string[] = [];

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The SOC screen from the station's name to the end of the charge curves (what docs/ui.md shows). */
async function screenshotSocScreen(p: Page, path: string): Promise<void> {
  const top = (await p.locator('#station-panel').boundingBox())!;
  const bottom = (await p.locator('#rider').boundingBox())!;
  const scrollY = Number(await p.evaluate('window.scrollY'));
  await p.screenshot({ path, fullPage: true, clip: { x: 0, y: top.y + scrollY, width: 390, height: bottom.y + bottom.height - top.y + 8 } });
}

beforeAll(async () => {
  ui = await startUiGateway({ env: { SIM_BOOT_DELAY_MS: '200' }, gateway: { simClockSpeed: SPEED } });
  ui.gw.sim.create({ id: STATION, autopilot: false, vehicle: { model: 'Classic', initialSoc: 90, targetSoc: 100, departAfterTargetS: 60 } });
  await until('the simulated station', async () => ui.gw.relay.stations().some((s) => s.chargeBoxId === STATION), (v) => v);
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  collectPageErrors(page, pageErrors);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
});

describe('rider screen with a simulated station on a fast clock', () => {
  it('follows the charge to the end: time to full shrinks, the curve grows, the summary appears', async () => {
    await page.goto(ui.url);
    await page.getByLabel('Access token (JWT)').fill(token({ sub: 'sim-rider', role: 'viewer', chargers: [STATION] }));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await until('the station', () => page.locator('#st-title').textContent(), (t) => t === STATION);
    await page.getByLabel('Charge to').selectOption('100');
    await ui.gw.sim.act(STATION, { type: 'start', idTag: 'TEST_TAG' });

    // Read the estimate while the pack charges; it stops once the pack stops taking charge.
    const etas: number[] = [];
    const curve: number[] = [];
    const end = Date.now() + 60_000;
    let tapering = false;
    while (Date.now() < end && !(await page.locator('#r-done').isVisible())) {
      const eta = Number((await page.locator('#r-eta').getAttribute('data-seconds')) || Number.NaN);
      if (Number.isFinite(eta) && eta !== etas.at(-1)) etas.push(eta);
      curve.push(Number(await page.locator('#c-soc').getAttribute('data-points')));
      if (!tapering && /tapering/.test((await page.locator('#r-eta-note').textContent()) ?? '')) {
        tapering = true;
        await screenshotSocScreen(page, 'test-artifacts/ui/rider-sim-tapering-phone.png');
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(etas.length).toBeGreaterThanOrEqual(3);
    expect(etas.at(-1)!).toBeLessThan(etas[0]! * 0.7);
    expect(Math.max(...curve)).toBeGreaterThan(10);

    await until('the end-of-charge summary', () => page.locator('#r-done').isVisible(), (v) => v, 60_000);
    const finalSoc = Number((await page.locator('#r-done-soc').textContent())?.replace(' %', ''));
    // The pack stops taking charge when the taper falls below C/20, just under 100 %.
    expect(finalSoc).toBeGreaterThan(98);
    expect(await page.locator('#r-done-energy').textContent()).toMatch(/^0\.\d\d kWh$/);
    expect(await page.locator('#r-done-duration').textContent()).toMatch(/^\d+ min \d+ s$/);
    await page.screenshot({ path: 'test-artifacts/ui/rider-sim-finished.png', fullPage: true });
    await screenshotSocScreen(page, 'test-artifacts/ui/rider-sim-finished-phone.png');
    expect(tapering).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
