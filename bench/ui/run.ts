// UI benchmark: the operator console in Debian's Chromium with 1,000 stations that each update once a second
// (a meterValues event per station per second through the gateway's bus, so events and SOC summaries reach the
// page as they would from 1,000 chargers). Prints, over a measured window: page main-thread time per second
// (Chromium's TaskDuration), script and layout time, tasks over 50 ms (Long Tasks API) and the longest, the
// page's own render time per frame (rows redrawn), DOM size and JS heap.
//   npm run bench:ui                                  (1,000 stations, 20 s)
//   npx tsx bench/ui/run.ts --stations 1000 --seconds 20
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import type { EventInput } from '../../src/events/catalogue.js';
import { createGateway } from '../../src/gateway.js';
import { arg } from '../lib/proc.js';

const CHROMIUM = '/usr/bin/chromium';
const STATIONS = arg('stations', 1000);
const SECONDS = arg('seconds', 20);
/** --frames 0: no requestAnimationFrame probe (it keeps Chromium drawing every frame, which costs main-thread time itself). */
const FRAMES = arg('frames', 1) !== 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-ui-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SIM_STATIONS: '0', DATA_DIR: dataDir, JWT_SECRET: 'bench-ui-secret-0123456789-abcdefghijkl' });
  const gw = await createGateway(config);
  await gw.start();
  const url = `http://127.0.0.1:${gw.port}/`;
  const ids = Array.from({ length: STATIONS }, (_, i) => `UI_${String(i).padStart(4, '0')}`);
  let n = 0;
  const now = (): string => new Date().toISOString();
  const emit = (input: EventInput): void => gw.bus.emit('eventInput', input);
  for (const [i, id] of ids.entries()) {
    emit({ id: `b${++n}`, type: 'stationConnected', chargeBoxId: id, timestamp: now(), receivedAt: now(), source: 'station', data: { linkKind: 'sim', upstream: 'local' } });
    emit({ id: `b${++n}`, type: 'status', chargeBoxId: id, connectorId: 1, timestamp: now(), receivedAt: now(), source: 'station', data: { status: i % 3 ? 'Charging' : 'Available', errorCode: 'NoError', synthetic: false } });
  }

  const profile = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(url);
  await page.getByLabel('Access token (JWT)').fill(gw.push.issueToken({ sub: 'bench-ui', role: 'operator', ttl: '1h' }));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  for (let t = Date.now(); !((await page.locator('#fleet-shown').textContent()) ?? '').startsWith(`${STATIONS} of ${STATIONS}`); ) {
    if (Date.now() - t > 60_000) throw new Error('the fleet table did not show every station within 60 s');
    await sleep(200);
  }

  // Every station updates once a second, spread over the second (as 1,000 chargers would be).
  let tick = 0;
  let stop = false;
  const feeder = (async () => {
    while (!stop) {
      const start = Date.now();
      tick++;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as string;
        emit({
          id: `m${++n}`, type: 'meterValues', chargeBoxId: id, connectorId: 1, timestamp: now(), receivedAt: now(), source: 'station',
          data: { sampledValues: [{ value: String(20 + ((i + tick) % 80)), measurand: 'SoC', unit: 'Percent' }, { value: String(1000 + tick), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] },
        });
        if (i % 50 === 49) await sleep(Math.max(0, (start + ((i + 1) / ids.length) * 1000 - Date.now())));
      }
      await sleep(Math.max(0, start + 1000 - Date.now()));
    }
  })();

  await sleep(3000); // warm-up
  await page.evaluate(`(() => {
    window.__long = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
    window.__frames = [];
    let last = performance.now();
    const loop = (t) => { window.__frames.push(t - last); last = t; if (!window.__stopFrames) requestAnimationFrame(loop); };
    if (${FRAMES}) requestAnimationFrame(loop);
  })()`);
  const metric = async (): Promise<Map<string, number>> => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    return new Map(metrics.map((m) => [m.name, m.value]));
  };
  const before = await metric();
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const after = await metric();
  const wallS = (Date.now() - t0) / 1000;
  const d = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const long = (await page.evaluate('window.__long')) as number[];
  const frames = (await page.evaluate('(window.__stopFrames = true, window.__frames)')) as number[];
  const domNodes = (await page.evaluate('document.getElementsByTagName("*").length')) as number;
  const animations = (await page.evaluate('document.getAnimations().map((a) => a.animationName ?? a.constructor.name).join(", ")')) as string;
  const rows = await page.locator('.fleet-row').count();
  const state = await page.locator('#conn-state').getAttribute('data-state');
  stop = true;
  await feeder;

  const sortedFrames = [...frames].sort((a, b) => a - b);
  const pct = (p: number): number => sortedFrames[Math.min(sortedFrames.length - 1, Math.floor(p * sortedFrames.length))] ?? NaN;
  const mainPerS = d('TaskDuration') / wallS;
  console.log(`bench:ui — operator console, ${STATIONS} stations each updating once a second, ${wallS.toFixed(1)} s measured (Chromium ${context.browser()?.version() ?? 'headless'})`);
  console.log(`  main thread busy   ${(mainPerS * 1000).toFixed(0)} ms per second (${(mainPerS * 100).toFixed(1)} % of a core); script ${((d('ScriptDuration') / wallS) * 1000).toFixed(0)} ms/s, layout ${((d('LayoutDuration') / wallS) * 1000).toFixed(0)} ms/s, style ${((d('RecalcStyleDuration') / wallS) * 1000).toFixed(0)} ms/s`);
  console.log(`  long tasks (>50 ms) ${long.length}${long.length > 0 ? `, longest ${Math.max(...long).toFixed(0)} ms` : ' (none: every task under 50 ms)'}`);
  if (FRAMES) console.log(`  frame interval     p50 ${pct(0.5).toFixed(1)} ms, p99 ${pct(0.99).toFixed(1)} ms, max ${(sortedFrames.at(-1) ?? NaN).toFixed(1)} ms (${frames.length} frames)`);
  console.log(`  DOM                ${domNodes} elements, ${rows} fleet rows in the DOM for ${STATIONS} stations; running animations: ${animations || 'none'}`);
  console.log(`  JS heap            ${((after.get('JSHeapUsedSize') ?? 0) / 1048576).toFixed(1)} MiB used of ${((after.get('JSHeapTotalSize') ?? 0) / 1048576).toFixed(1)} MiB`);
  console.log(`  connection         ${state}; events pushed ${gw.push.stats().pushed.events}, slow-consumer disconnects ${gw.push.stats().disconnects.slowConsumer}`);

  await context.close();
  rmSync(profile, { recursive: true, force: true });
  await gw.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
