// The rider's SOC screen on a phone (390 × 844) in Debian's Chromium against a real gateway: a scripted station over
// WebSocket charges a Pro pack (figures from the simulator's battery model) and the rider sees the curve grow, the
// time to the target shrink, the cost at the gateway's price and then their own, the end-of-charge summary, past
// sessions with their curves; a viewer sees only its station; nothing is wider than the screen; axe-core finds
// nothing in the light and dark themes. Screenshots go to test-artifacts/ui/ (gitignored).
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { newBattery, stepBattery, type BatteryState } from '../../src/sim/battery.js';
import { launchBrowser, type TestBrowser, collectPageErrors } from './support/browser.js';
import { connectBenchStation, type BenchStation } from './support/bench-station.js';
import { startUiGateway, token, type UiGateway } from './support/ui-gateway.js';

const STATION = 'RIVOT_RIDER_01';
const OTHER = 'RIVOT_RIDER_OTHER';
const ARTIFACTS = 'test-artifacts/ui';
const PHONE = { width: 390, height: 844 };
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let ui: UiGateway;
let browser: TestBrowser;
let station: BenchStation;
let page: Page;
let txId: number;
const pageErrors: string[] = [];

// A Pro pack (60 Ah at 60 A: 1.7 %/min) from 90 %, one sample per simulated 30 s: the CV taper starts near 96.5 %,
// within the live part of the test.
const battery: BatteryState = newBattery('Pro', 90, 100);
const LIMITS = { maxCurrentA: 100, maxPowerW: 8500 };
const SAMPLE_S = 30;
let energyWh = 0;
let sampleAt = 0;
let startMs = 0;

async function text(locator: Locator, want: string | RegExp, timeoutMs = 8000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (await locator.textContent()) ?? '';
    if (typeof want === 'string' ? last.includes(want) : want.test(last)) return last;
    if (Date.now() > end) throw new Error(`expected ${String(want)}, the page shows "${last}"`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SAMPLE_S simulated seconds of charging, sent as the firmware's MeterValues (station time = start + minutes). */
async function chargeOneSample(): Promise<void> {
  for (let i = 0; i < SAMPLE_S; i++) energyWh += stepBattery(battery, 1, LIMITS, true);
  sampleAt += SAMPLE_S * 1000;
  await station.client.call('MeterValues', {
    connectorId: 1,
    transactionId: txId,
    meterValue: [{
      timestamp: new Date(startMs + sampleAt).toISOString(),
      sampledValue: [
        { value: battery.soc.toFixed(2), measurand: 'SoC', unit: 'Percent' },
        { value: battery.voltageV.toFixed(2), measurand: 'Voltage', unit: 'V' },
        { value: battery.currentA.toFixed(2), measurand: 'Current.Import', unit: 'A' },
        { value: (battery.voltageV * battery.currentA).toFixed(0), measurand: 'Power.Active.Import', unit: 'W' },
        { value: energyWh.toFixed(0), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: '60', measurand: 'Current.Offered', unit: 'A' },
      ],
    }],
  });
}

async function newPhonePage(): Promise<Page> {
  const p = await browser.context.newPage();
  await p.setViewportSize(PHONE);
  collectPageErrors(p, pageErrors);
  return p;
}

async function signIn(p: Page, jwt: string): Promise<void> {
  await p.goto(ui.url);
  await p.getByLabel('Access token (JWT)').fill(jwt);
  await p.getByRole('button', { name: 'Sign in', exact: true }).click();
  await text(p.locator('#conn-text'), 'Live');
}

// The test compiles without the DOM library: page-side code is passed as text.
const points = async (p: Page | Locator, sel: string): Promise<number> => Number(await p.locator(sel).first().getAttribute('data-points'));
const etaSeconds = async (p: Page): Promise<number> => Number((await p.locator('#r-eta').getAttribute('data-seconds')) || Number.NaN);
const storage = (p: Page, key: string): Promise<unknown> => p.evaluate(`localStorage.getItem(${JSON.stringify(key)})`);

/** Elements wider than the viewport, and tiles whose content spills out of them. */
async function overflow(p: Page): Promise<{ pageWidth: number; viewport: number; spills: string[] }> {
  return p.evaluate(`(() => {
    const spills = [];
    for (const tile of document.querySelectorAll('.tile, .card, .station-panel, .stations, .past-session, .topbar, .station-card')) {
      if (tile.offsetParent === null) continue;
      if (tile.scrollWidth > tile.clientWidth + 1) spills.push((tile.id || tile.className) + ': ' + tile.scrollWidth + ' > ' + tile.clientWidth);
    }
    return { pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth, spills };
  })()`);
}

/** The SOC screen from the station's name to the end of the charge curves (what docs/ui.md shows). */
async function screenshotSocScreen(p: Page, path: string): Promise<void> {
  const top = (await p.locator('#station-panel').boundingBox())!;
  const bottom = (await p.locator('#rider').boundingBox())!;
  // boundingBox is relative to the viewport; a full-page clip is in page coordinates.
  const scrollY = Number(await p.evaluate('window.scrollY'));
  await p.screenshot({ path, fullPage: true, clip: { x: 0, y: top.y + scrollY, width: PHONE.width, height: bottom.y + bottom.height - top.y + 8 } });
}

interface AxeResult { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }
async function axe(p: Page): Promise<string[]> {
  // page.evaluate is not bound by the page's CSP (a script tag would be refused by script-src 'self').
  if (!(await p.evaluate('typeof window.axe !== "undefined"'))) await p.evaluate(AXE_SOURCE);
  const result = (await p.evaluate('window.axe.run(document, { resultTypes: ["violations"] })')) as AxeResult;
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ui = await startUiGateway({ env: { UI_PRICE_PER_KWH: '12.5', UI_CURRENCY: 'EUR' } });
  browser = await launchBrowser();
  station = await connectBenchStation(ui.gw.wsUrl(STATION));
  await station.boot();
  await station.vehicleInfo({ soc: 90, maxCurrent: 60, model: 'Pro', range: 142.6 });
  await station.status(1, 'Preparing');
  // Station time runs from now at one sample per 30 s (ahead of the wall clock, as the simulator's fast clock does):
  // the samples sent before the page opens are in the gateway's history.
  startMs = Date.now();
  const reply = await station.client.call('StartTransaction', { connectorId: 1, idTag: 'RIDER_TAG', meterStart: 0, timestamp: new Date(startMs).toISOString() });
  txId = (reply[2] as { transactionId: number }).transactionId;
  await station.status(1, 'Charging');
  for (let i = 0; i < 4; i++) await chargeOneSample();
  page = await newPhonePage();
}, 60_000);

afterAll(async () => {
  station?.client.close();
  await browser?.close();
  await ui?.close();
});

describe('rider SOC screen on a phone', () => {
  it('serves uPlot from the installed package and the gateway default price', async () => {
    const lib = await fetch(`${ui.url}/vendor/uPlot.esm.js`);
    expect(lib.status).toBe(200);
    expect(lib.headers.get('content-type')).toMatch(/javascript/);
    expect(await lib.text()).toContain('export { uPlot as default }');
    expect((await fetch(`${ui.url}/vendor/uPlot.min.css`)).headers.get('content-type')).toMatch(/css/);
    expect(await (await fetch(`${ui.url}/ui-config.json`)).json()).toMatchObject({ rider: { pricePerKwh: 12.5, currency: 'EUR' } });
  });

  it('opens on the SOC screen first, with the session so far read from the history', async () => {
    await signIn(page, token({ sub: 'rider-1', role: 'viewer', chargers: [STATION] }));
    await text(page.locator('#st-title'), STATION);
    // The station panel comes before the station list on a phone.
    const [panelTop, listTop] = await Promise.all([page.locator('#station-panel').boundingBox(), page.locator('nav.stations').boundingBox()]);
    expect(panelTop!.y).toBeLessThan(listTop!.y);
    await text(page.locator('#v-model'), 'Pro');
    await text(page.locator('#st-status'), 'Charging');
    await until('SOC curve from the history', () => points(page, '#c-soc'), (n) => n >= 4);
    expect(await points(page, '#c-power')).toBeGreaterThanOrEqual(4);
    await text(page.locator('#r-elapsed'), /^\d+ s$|^\d+ min \d+ s$/);
    expect(await page.locator('#c-soc').getAttribute('aria-label')).toMatch(/^State of charge over \d+ min: from 9\d to 9\d %, \d+ samples$/);
  });

  it('the curve grows and the time to full shrinks as the station charges, through the taper', async () => {
    await page.getByLabel('Charge to').selectOption('100');
    await text(page.locator('#r-eta-label'), 'Time to 100 %');
    expect(await storage(page, 'chargebridge.rider.targetSoc')).toBe('100');
    let before = await until('an estimate', () => etaSeconds(page), (s) => Number.isFinite(s) && s > 0);
    let pointsBefore = await points(page, '#c-soc');
    const seen: number[] = [before];
    for (let i = 0; i < 6; i++) {
      await chargeOneSample();
      const after = await until('the time to full to shrink', async () => [await etaSeconds(page), await page.locator('#rider').textContent()] as const, ([s]) => Number.isFinite(s) && s < before).then(([s]) => s);
      await until('the curve to grow', () => points(page, '#c-soc'), (n) => n > pointsBefore);
      pointsBefore = await points(page, '#c-soc');
      seen.push(after);
      before = after;
    }
    // Near full the pack tapers: the page says so and where the charge will end.
    await text(page.locator('#r-eta-note'), /tapering|stops taking charge near 9\d %/);
    expect(seen.length).toBe(7);
    await page.screenshot({ path: `${ARTIFACTS}/rider-charging-light.png`, fullPage: true });
    await screenshotSocScreen(page, `${ARTIFACTS}/rider-charging-phone.png`);
  });

  it('shows energy and cost at the gateway price, then at the rider price kept in this browser', async () => {
    // The register as the station sent it, in whole Wh.
    const kwh = Math.round(energyWh) / 1000;
    await text(page.locator('#r-energy'), `${kwh.toFixed(2)} kWh`);
    await text(page.locator('#r-cost-note'), 'at 12.5 EUR/kWh');
    await text(page.locator('#r-cost'), `€${(kwh * 12.5).toFixed(2)}`);
    await page.getByLabel(/Price per kWh/).fill('20');
    await text(page.locator('#r-cost'), `€${(kwh * 20).toFixed(2)}`);
    expect(await storage(page, 'chargebridge.rider.pricePerKwh')).toBe('20');
  });

  it('has nothing wider than the phone and no tile spilling over, and 0 axe-core violations in light and dark themes', async () => {
    const o = await overflow(page);
    expect(o.pageWidth).toBeLessThanOrEqual(o.viewport);
    expect(o.spills).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/rider-charging-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('shows the end-of-charge summary when the transaction stops', async () => {
    const soc = battery.soc;
    await station.client.call('StopTransaction', { transactionId: txId, meterStop: Math.round(energyWh), timestamp: new Date(startMs + sampleAt).toISOString(), reason: 'Local' });
    await station.status(1, 'Finishing');
    const done = page.locator('#r-done');
    await until('the summary', () => done.isVisible(), (v) => v);
    await text(page.locator('#r-done-soc'), `${soc.toFixed(1)} %`);
    await text(page.locator('#r-done-energy'), `${(Math.round(energyWh) / 1000).toFixed(2)} kWh`);
    await text(page.locator('#r-done-duration'), /^\d+ min \d+ s$/);
    await text(page.locator('#r-done-cost'), `€${((Math.round(energyWh) / 1000) * 20).toFixed(2)}`);
    await text(page.locator('#r-done-when'), `Session #${txId} ended`);
    await text(page.locator('#r-charts-title'), 'Last charge');
    await text(page.locator('#r-eta-note'), 'No charge running');
    expect(await axe(page)).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/rider-finished.png`, fullPage: true });
    await screenshotSocScreen(page, `${ARTIFACTS}/rider-finished-phone.png`);
  });

  it('lists past sessions, each with its curve when opened', async () => {
    const row = page.locator(`.past-session[data-tx="${txId}"]`);
    await text(row.locator('summary'), `#${txId}`);
    await row.locator('summary').click();
    await until('the past session curve', () => points(row, '.chart'), (n) => n >= 10);
    const o = await overflow(page);
    expect(o.pageWidth).toBeLessThanOrEqual(o.viewport);
    expect(o.spills).toEqual([]);
    expect(await axe(page)).toEqual([]);
    await row.screenshot({ path: `${ARTIFACTS}/rider-past-session.png` });
    // The finished charge and an opened past session in the dark theme too.
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axe(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('a viewer token sees only its station, and its REST reads are refused for another', async () => {
    const other = await connectBenchStation(ui.gw.wsUrl(OTHER));
    try {
      await other.boot();
      const p = await newPhonePage();
      await signIn(p, token({ sub: 'rider-2', role: 'viewer', chargers: [STATION] }));
      await text(p.locator(`.station-card[data-station="${STATION}"]`), STATION);
      expect(await p.locator(`.station-card[data-station="${OTHER}"]`).count()).toBe(0);
      await text(p.locator('#r-sessions'), `#${txId}`);
      const auth = { Authorization: `Bearer ${token({ sub: 'rider-2', role: 'viewer', chargers: [STATION] })}` };
      const status = await Promise.all([
        fetch(`${ui.url}/api/transactions?chargeBoxId=${OTHER}`, { headers: auth }).then((r) => r.status),
        fetch(`${ui.url}/api/events?chargeBoxId=${OTHER}&type=meterValues`, { headers: auth }).then((r) => r.status),
      ]);
      expect(status).toEqual([403, 403]);
      await p.close();
    } finally {
      other.client.close();
    }
  });

  it('on a two-connector station the figures, the time to target and the curve are the chosen connector\'s', async () => {
    const two = await connectBenchStation(ui.gw.wsUrl('RIVOT_RIDER_TWO'));
    try {
      await two.boot();
      const session = async (connectorId: number, soc: string, amps: string, offered: string, wh: string): Promise<void> => {
        const reply = await two.client.call('StartTransaction', { connectorId, idTag: 'TEST_TAG', meterStart: 0, timestamp: new Date().toISOString() });
        const transactionId = (reply[2] as { transactionId: number }).transactionId;
        await two.client.call('StatusNotification', { connectorId, status: 'Charging', errorCode: 'NoError', timestamp: new Date().toISOString() });
        await two.client.call('MeterValues', {
          connectorId, transactionId,
          meterValue: [{ timestamp: new Date(Date.now() + 1000).toISOString(), sampledValue: [
            { value: soc, measurand: 'SoC', unit: 'Percent' }, { value: amps, measurand: 'Current.Import', unit: 'A' },
            { value: '78', measurand: 'Voltage', unit: 'V' }, { value: offered, measurand: 'Current.Offered', unit: 'A' },
            { value: wh, measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          ] }],
        });
      };
      await session(1, '20', '30', '30', '100');
      await session(2, '70', '60', '60', '200');
      const p = await newPhonePage();
      await signIn(p, token({ sub: 'rider-3', role: 'viewer', chargers: ['RIVOT_RIDER_TWO'] }));
      await text(p.locator('#st-title'), 'RIVOT_RIDER_TWO');
      // The gateway shows the connector whose transaction started last.
      await text(p.locator('#m-connector'), /^2$/);
      await text(p.locator('#r-energy'), '0.20 kWh');
      await until('connector 2 curve', () => p.locator('#c-soc').getAttribute('aria-label'), (l) => /from 70 to 70 %/.test(l ?? ''));
      const eta2 = await until('connector 2 estimate', () => etaSeconds(p), (v) => Number.isFinite(v) && v > 0);
      await p.locator('#st-connector').selectOption('1');
      await text(p.locator('#m-connector'), /^1$/);
      await text(p.locator('#r-energy'), '0.10 kWh');
      await until('connector 1 curve', () => p.locator('#c-soc').getAttribute('aria-label'), (l) => /from 20 to 20 %/.test(l ?? ''));
      const eta1 = await until('connector 1 estimate', () => etaSeconds(p), (v) => Number.isFinite(v) && v > 0);
      // Classic from 20 % at 30 A versus Pro from 70 % at 60 A, to the same target: different figures.
      expect(eta1).not.toBe(eta2);
      const o = await overflow(p);
      expect(o.pageWidth).toBeLessThanOrEqual(o.viewport);
      await p.close();
    } finally {
      two.client.close();
    }
  });

  it('ran without script or console errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
