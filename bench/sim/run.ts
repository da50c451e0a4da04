// Simulator at scale: N simulated stations through the gateway (relay → SteVe stand-in in a child process),
// heartbeat and meter values every 60 s, connects staggered. Prints stations connected, RSS per station
// (gateway + simulator share this process), CPU at steady state, and reconnect-storm recovery time.
// Usage: npx tsx bench/sim/run.ts [--stations 10000] [--connect-s 30] [--steady-s 60] [--transport link|ws] [--direct]
//   --direct: no gateway; the stations connect over WebSocket straight to the stand-in (the `npm run sim` footprint).
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway } from '../../src/gateway.js';
import { createSimulator } from '../../src/sim/index.js';
import { DEFAULT_LIMITS } from '../../src/sim/station.js';
import { wsTransport } from '../../src/sim/ws-transport.js';
import { arg, cpuSeconds as cpuSecondsOf, rssBytes as rssOf, startProcess } from '../lib/proc.js';

const N = arg('stations', 10_000);
const connectS = arg('connect-s', 30);
const steadyS = arg('steady-s', 60);
const direct = process.argv.includes('--direct');
const transportKind = process.argv.includes('--transport') ? process.argv[process.argv.indexOf('--transport') + 1] : 'link';
const MB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, d = 1): string => n.toFixed(d);

// /proc reads can fail with EMFILE when the gateway runs out of descriptors: report NaN rather than crash.
const safe = <T extends unknown[]>(fn: (...a: T) => number) => (...a: T): number => {
  try {
    return fn(...a);
  } catch {
    return Number.NaN;
  }
};
const cpuSeconds = safe(cpuSecondsOf);
const rssLocal = safe(rssOf);
let parentRssFromCentral = Number.NaN;
/** This process's RSS; read by the stand-in child when this process has no descriptor left to read /proc. */
const rssBytes = (pid: number): number => {
  const r = rssLocal(pid);
  return Number.isFinite(r) ? r : parentRssFromCentral;
};
const openFds = safe(() => readdirSync('/proc/self/fd').length);

let central: ChildProcess | undefined;
let centralSockets = 0;
let centralFrames = 0;

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(100);
  }
  return true;
}

try {
  const c = await startProcess('bench/sim/central.ts', {}, /steve-port (\d+)/);
  central = c.child;
  central.stdout?.on('data', (d: Buffer) => {
    const all = [...d.toString().matchAll(/sockets (\d+) frames (\d+) parent-rss (\d+)/g)];
    const last = all.at(-1);
    if (last) {
      centralSockets = Number(last[1]);
      centralFrames = Number(last[2]);
      parentRssFromCentral = Number(last[3]) || Number.NaN;
    }
  });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-sim-'));
  const config = loadConfig({
    HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn',
    STEVE_WS_URL: `ws://127.0.0.1:${c.port}/steve/websocket/CentralSystemService`,
  });
  // Errors are counted and the first few shown, so a failure mode cannot flood the figures.
  const logged = { errors: 0, shown: 0 };
  const logger = pino({ level: 'error' }, {
    write(line: string) {
      logged.errors++;
      if (logged.shown++ < 3) process.stdout.write(`  gateway log: ${line.slice(0, 300)}\n`);
    },
  });
  const gateway = direct ? undefined : await createGateway(config, { logger });
  await gateway?.start();
  const rssBefore = rssBytes(process.pid);

  const stations = Array.from({ length: N }, (_, i) => ({
    id: `BENCH-${String(i + 1).padStart(5, '0')}`,
    vehicle: { model: 'Max' as const, initialSoc: 10, targetSoc: 100 },
    config: { MeterValueSampleInterval: '60' },
  }));
  const sim = createSimulator({
    config: { stations, limits: { ...DEFAULT_LIMITS, bootDelayMs: 0 }, connectSpreadMs: connectS * 1000 },
    ...(!gateway
      ? { transport: wsTransport(config.steveWsUrl!.href) }
      : transportKind === 'ws'
        ? { transport: wsTransport(`ws://127.0.0.1:${gateway.port}/ocpp`) }
        : { attach: (link: Parameters<typeof gateway.relay.attach>[0]) => gateway.relay.attach(link) }),
    logger,
    dataDir,
  });
  const path_ = !gateway
    ? 'WebSocket straight to the SteVe stand-in (no gateway)'
    : `${transportKind === 'ws' ? 'WebSocket to the gateway' : 'in-process links into the gateway relay'} → gateway → SteVe stand-in`;
  console.log(`sim bench: ${N} stations via ${path_} (stand-in in a child process); connects spread over ${connectS} s`);
  const t0 = Date.now();
  await sim.start();

  // Every station starts a session as soon as it has booted, so meter values flow.
  const started = new Set<string>();
  const starter = setInterval(() => {
    for (const s of stations) {
      if (started.has(s.id)) continue;
      const info = sim.get(s.id);
      if (info.booted) {
        void sim.act(s.id, { type: 'start' });
        started.add(s.id);
      }
    }
  }, 500);
  let lastLine = 0;
  const allUp = await waitUntil(() => {
    if (Date.now() - lastLine > 5000) {
      lastLine = Date.now();
      const t = sim.totals();
      console.log(`  t=${fmt((Date.now() - t0) / 1000, 0)}s online ${t.online} booted ${t.booted} charging ${t.charging} upstream sockets ${centralSockets}`);
    }
    const t = sim.totals();
    return t.booted === N && t.charging === N && centralSockets === N;
  }, (connectS + 20) * 1000);
  clearInterval(starter);
  const connectTime = (Date.now() - t0) / 1000;
  const up = sim.totals();
  console.log(`stations connected: ${up.online}/${N} booted ${up.booted} charging ${up.charging}, upstream sockets ${centralSockets} (${allUp ? 'all' : 'NOT all'} after ${fmt(connectTime)} s)`);

  // Steady state: let the connect wave settle, then measure one window.
  await sleep(10_000);
  const cpu0 = process.cpuUsage();
  const central0 = cpuSeconds(central.pid!);
  const frames0 = sim.totals().framesOut;
  const centralFrames0 = centralFrames;
  const w0 = Date.now();
  let rssMax = 0;
  while (Date.now() - w0 < steadyS * 1000) {
    await sleep(1000);
    const r = rssBytes(process.pid);
    if (Number.isFinite(r)) rssMax = Math.max(rssMax, r);
  }
  const wall = (Date.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuPct = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
  const centralPct = ((cpuSeconds(central.pid!) - central0) / wall) * 100;
  const steady = sim.totals();
  const rss = rssBytes(process.pid);
  const fds = openFds();
  const heapUsed = safe(() => process.memoryUsage().heapUsed)();
  console.log(`steady state (${fmt(wall, 0)} s window): station frames out ${fmt((steady.framesOut - frames0) / wall)}/s, frames at SteVe stand-in ${fmt((centralFrames - centralFrames0) / wall)}/s`);
  console.log(`open fds in the gateway+simulator process: ${fds}; gateway error log lines so far: ${logged.errors}`);
  console.log(`CPU ${gateway ? 'gateway+simulator' : 'simulator'}: ${fmt(cpuPct)} % of one core (SteVe stand-in child: ${fmt(centralPct)} %)`);
  console.log(`RSS ${gateway ? 'gateway+simulator' : 'simulator'}: ${fmt(rss / MB, 0)} MB now, ${fmt(rssMax / MB, 0)} MB max in window (process before stations: ${fmt(rssBefore / MB, 0)} MB); heap used ${fmt(heapUsed / MB, 0)} MB`);
  console.log(`RSS per station: ${fmt(((rssMax - rssBefore) / N) / 1024)} KB above the process before stations, ${fmt((rssMax / N) / 1024)} KB total/N`);

  // Reconnect storm: the relay drops every station link at once.
  const storm0 = Date.now();
  if (gateway) gateway.relay.closeAll(1001, 'reconnect storm');
  else for (const s of stations) void sim.act(s.id, { type: 'dropLink' });
  await waitUntil(() => sim.totals().online < N, 5000);
  const back = await waitUntil(() => sim.totals().online === N && centralSockets === N && (gateway?.relay.size ?? N) === N, 45_000);
  const recovery = (Date.now() - storm0) / 1000;
  const after = sim.totals();
  console.log(`reconnect storm: ${N} links dropped at once (${gateway ? 'relay closes every link' : 'every station drops its socket'}); ${after.online}/${N} back online with upstream sockets ${centralSockets} in ${fmt(recovery)} s${back ? '' : ' (NOT all recovered)'}; timeouts ${after.timeouts}, call errors ${after.callErrors}, dropped ${after.dropped}`);
  console.log(`final RSS ${fmt(rssBytes(process.pid) / MB, 0)} MB; open fds ${openFds()}; gateway error log lines ${logged.errors}`);
  await sim.stop().catch((err: unknown) => console.log(`  simulator stop: ${(err as Error).message}`));
  await gateway?.stop();
} finally {
  central?.kill('SIGTERM');
}
process.exit(0);
