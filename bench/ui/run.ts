// UI benchmark in Debian's Chromium against a gateway in the same process, events put on the gateway's bus as
// the relay would. Two screens:
//   operator  the operator console (1,366 × 900, operator token) with 1,000 stations that each send a MeterValues
//             event (SOC and energy) once a second, spread over the second;
//   rider     the rider's screen (390 × 844, viewer token for one station) with that station charging, one
//             MeterValues (SOC, power, voltage, current, energy) a second.
// Each screen is measured idle first (signed in, nothing changing: the floor) and then under its load. Prints main-
// thread time per second (Chromium's TaskDuration) and its script / style / layout parts, the ratio to the floor,
// tasks over 50 ms (Long Tasks API), frame intervals, DOM size, JS heap and what the gateway pushed.
//   npm run bench:ui                                       (both screens, 1,000 stations, 20 s each)
//   npx tsx bench/ui/run.ts --screen operator --stations 1000 --seconds 20 --floor 8
//   npx tsx bench/ui/run.ts --screen operator --profile /tmp/ui.cpuprofile   (CPU profile of the loaded window)
//   npx tsx bench/ui/run.ts --screen rider --trace 1          (main-thread time by kind of work, from a trace)
//   --frames 0: no requestAnimationFrame probe (it keeps Chromium drawing every frame, which costs time itself).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import type { EventInput } from '../../src/events/catalogue.js';
import { createGateway } from '../../src/gateway.js';
import { arg } from '../lib/proc.js';
import { measureWindow, printWindow } from './page-window.js';

const CHROMIUM = '/usr/bin/chromium';
const STATIONS = arg('stations', 1000);
const SECONDS = arg('seconds', 20);
const FLOOR_SECONDS = arg('floor', 8);
const FRAMES = arg('frames', 1) !== 0;
const SCREEN = (process.argv.find((_a, i) => process.argv[i - 1] === '--screen') ?? 'both') as 'operator' | 'rider' | 'both';
const PROFILE = process.argv.find((_a, i) => process.argv[i - 1] === '--profile');
/** --trace 1: Chromium's trace of the loaded window, main-thread time by kind of work. */
const TRACE = arg('trace', 0) === 1;
/** --reduced-motion 1: the page as for a user who asked for reduced motion (no gauge transition or pulse). */
const REDUCED_MOTION = arg('reduced-motion', 0) === 1;
const RIDER = 'UI_RIDER_1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Gateway = Awaited<ReturnType<typeof createGateway>>;

let n = 0;
const now = (): string => new Date().toISOString();
const base = (chargeBoxId: string) => ({ id: `b${++n}`, chargeBoxId, timestamp: now(), receivedAt: now(), source: 'station' as const });

/** Sends one round of `perSecond` updates spread over a second, while `on()` is true; resolves when stopped. */
function feeder(gw: Gateway, ids: readonly string[], update: (id: string, i: number, tick: number) => EventInput, on: () => boolean, stopped: () => boolean): Promise<void> {
  return (async () => {
    let tick = 0;
    while (!stopped()) {
      const start = Date.now();
      if (on()) {
        tick++;
        for (let i = 0; i < ids.length; i++) {
          gw.bus.emit('eventInput', update(ids[i] as string, i, tick));
          if (i % 50 === 49) await sleep(Math.max(0, start + ((i + 1) / ids.length) * 1000 - Date.now()));
        }
      }
      await sleep(Math.max(0, start + 1000 - Date.now()));
    }
  })();
}

async function measureScreen(gw: Gateway, context: BrowserContext, screen: 'operator' | 'rider', ids: readonly string[], update: (id: string, i: number, tick: number) => EventInput): Promise<void> {
  const page = await context.newPage();
  if (screen === 'rider') await page.setViewportSize({ width: 390, height: 844 });
  if (REDUCED_MOTION) await page.emulateMedia({ reducedMotion: 'reduce' });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(`http://127.0.0.1:${gw.port}/`);
  const claims = screen === 'operator' ? { sub: 'bench-ui', role: 'operator' as const } : { sub: 'bench-rider', role: 'viewer' as const, chargers: [RIDER] };
  await page.getByLabel('Access token (JWT)').fill(gw.push.issueToken({ ...claims, ttl: '1h' }));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // The operator sees the rider's station too.
  const want = screen === 'operator' ? `${ids.length + 1} of ${ids.length + 1}` : RIDER;
  const ready = screen === 'operator' ? '#fleet-shown' : '#st-title';
  for (let t = Date.now(); !((await page.locator(ready).textContent()) ?? '').includes(want); ) {
    if (Date.now() - t > 60_000) throw new Error(`the ${screen} screen did not show ${want} within 60 s`);
    await sleep(200);
  }
  const pushedBefore = gw.push.stats().pushed;
  let on = false;
  let stop = false;
  const feeding = feeder(gw, ids, update, () => on, () => stop);
  await sleep(2000);
  const floor = await measureWindow(page, cdp, FLOOR_SECONDS, { frames: FRAMES });
  on = true;
  await sleep(3000); // warm-up
  const pushedAt = gw.push.stats().pushed;
  const load = await measureWindow(page, cdp, SECONDS, { frames: FRAMES, trace: TRACE, ...(PROFILE ? { profile: PROFILE.replace(/(\.cpuprofile)?$/, `-${screen}.cpuprofile`) } : {}) });
  const pushed = gw.push.stats().pushed;
  stop = true;
  await feeding;
  const domNodes = (await page.evaluate('document.getElementsByTagName("*").length')) as number;
  const rows = await page.locator('.fleet-row').count();
  const state = await page.locator('#conn-state').getAttribute('data-state');
  const what = screen === 'operator' ? `operator console (1,366 × 900), ${ids.length} stations each updating once a second` : 'rider screen (390 × 844, viewer token), one station charging, MeterValues once a second';
  console.log(`bench:ui — ${what} (Chromium ${context.browser()?.version() ?? 'headless'})`);
  printWindow(`idle ${floor.seconds.toFixed(0)} s (floor)`, floor, undefined);
  printWindow(`loaded ${load.seconds.toFixed(0)} s`, load, floor);
  const per = (k: 'events' | 'summaries'): string => ((pushed[k] - pushedAt[k]) / load.seconds).toFixed(0);
  console.log(`  ${''.padEnd(18)} DOM ${domNodes} elements${screen === 'operator' ? `, ${rows} fleet rows for ${ids.length} stations` : ''}; ${state}; pushed per second: ${per('events')} events, ${per('summaries')} summaries; slow-consumer disconnects ${gw.push.stats().disconnects.slowConsumer}; events pushed while signing in ${pushedAt.events - pushedBefore.events}`);
  await page.close();
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-ui-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SIM_STATIONS: '0', DATA_DIR: dataDir, JWT_SECRET: 'bench-ui-secret-0123456789-abcdefghijkl' });
  const gw = await createGateway(config);
  await gw.start();
  const ids = Array.from({ length: STATIONS }, (_, i) => `UI_${String(i).padStart(4, '0')}`);
  for (const [i, id] of ids.entries()) {
    gw.bus.emit('eventInput', { ...base(id), type: 'stationConnected', data: { linkKind: 'sim', upstream: 'local' } });
    gw.bus.emit('eventInput', { ...base(id), type: 'status', connectorId: 1, data: { status: i % 3 ? 'Charging' : 'Available', errorCode: 'NoError', synthetic: false } });
  }
  gw.bus.emit('eventInput', { ...base(RIDER), type: 'stationConnected', data: { linkKind: 'sim', upstream: 'local' } });
  gw.bus.emit('eventInput', { ...base(RIDER), type: 'status', connectorId: 1, data: { status: 'Charging', errorCode: 'NoError', synthetic: false } });
  gw.bus.emit('eventInput', { ...base(RIDER), type: 'transactionStarted', connectorId: 1, transactionId: 1, data: { idTag: 'RIDER', meterStart: 0, startTime: now() } });

  const profile = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    if (SCREEN !== 'rider') {
      await measureScreen(gw, context, 'operator', ids, (id, i, tick) => ({
        ...base(id), type: 'meterValues', connectorId: 1,
        data: { sampledValues: [{ value: String(20 + ((i + tick) % 80)), measurand: 'SoC', unit: 'Percent' }, { value: String(1000 + tick), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
      }));
    }
    if (SCREEN !== 'operator') {
      await measureScreen(gw, context, 'rider', [RIDER], (id, _i, tick) => ({
        ...base(id), type: 'meterValues', connectorId: 1, transactionId: 1,
        data: {
          sampledValues: [
            { value: (20 + (tick % 800) / 10).toFixed(1), measurand: 'SoC', unit: 'Percent' },
            { value: '7200', measurand: 'Power.Active.Import', unit: 'W' },
            { value: '72.0', measurand: 'Voltage', unit: 'V' },
            { value: '100.0', measurand: 'Current.Import', unit: 'A' },
            { value: String(2 * tick), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          ],
        },
      }));
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await gw.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
