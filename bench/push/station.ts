// Push benchmark from the wire: station frame → Socket.IO client receipt, through the real gateway process
// (src/main.ts with its embedded central system, message log, event model and push server). This process plays
// the stations: one OCPP WebSocket per station, StatusNotification frames paced at --rate round-robin over the
// stations, each with a unique `info` as its key. Clients run in two child processes (clients.ts); client i
// watches station i mod S, so 1,000 clients on 1,000 stations is the flashCharge UI's shape and 10,000 clients
// on 1,000 stations puts ten watchers on each station.
//   npm run bench:push-station                       (1,000 then 10,000 clients, 1,000 stations, 200 frames/s)
//   npx tsx bench/push/station.ts --clients 1000 --stations 1000 --rate 200 --seconds 10
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { arg, ask, cpuSeconds, percentile, rssBytes, startProcess, wall } from '../lib/proc.js';
import type { Receipt } from './clients.js';

const WORKERS = 2;
const SECRET = 'bench-secret-bench-secret-bench-secret-01';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ms = (v: number): string => v.toFixed(2);

function openStation(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['ocpp1.6'], { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    // The embedded central system answers every CALL; nothing here waits for the answers.
  });
}

const stationCount = arg('stations', 1000);
const rate = arg('rate', 200);
const seconds = arg('seconds', 10);
const clientCounts = process.argv.includes('--clients') ? [arg('clients', 1000)] : [1000, 10_000];

const dataDir = path.join(os.tmpdir(), `cb-bench-push-station-${process.pid}`);
process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
setTimeout(() => {
  console.error('push-station bench: exceeded 300 s, aborting');
  process.exit(1);
}, 300_000).unref();

console.log(`push-station bench on ${os.cpus().length} cores, node ${process.version}: ${stationCount} stations, ${rate} frames/s for ${seconds} s`);
const gw = await startProcess('src/main.ts', {
  PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SIM_STATIONS: '0', JWT_SECRET: SECRET, DATA_DIR: dataDir,
}, /"port":(\d+)/);
const gwPid = gw.child.pid!;
const base = `127.0.0.1:${gw.port}`;
const token = jwt.sign({ sub: 'bench', role: 'operator' }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });

let ok = true;
try {
  const stations: WebSocket[] = [];
  const ids = Array.from({ length: stationCount }, (_, i) => `ST${i}`);
  for (let i = 0; i < ids.length; i += 100) stations.push(...(await Promise.all(ids.slice(i, i + 100).map((id) => openStation(`ws://${base}/ocpp/${id}`)))));
  let keys = 0;
  let frameId = 0;

  for (const clients of clientCounts) {
    const t0 = performance.now();
    const children = Array.from({ length: WORKERS }, () => fork(path.join(import.meta.dirname, 'clients.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const watch = Array.from({ length: clients }, (_, i) => ids[i % ids.length]!);
    const per = Math.ceil(clients / WORKERS);
    const ready = await Promise.all(children.map((c, i) => ask<{ connected: number; failed: number }>(c, { cmd: 'start', url: `http://${base}`, token, stations: watch.slice(i * per, (i + 1) * per) }, 'ready')));
    const connected = ready.reduce((a, r) => a + r.connected, 0);
    const connectS = (performance.now() - t0) / 1000;
    await sleep(1000); // snapshots and summaries of the subscriptions out of the way

    const sent = new Map<string, number>();
    const total = Math.round(rate * seconds);
    const cpu0 = cpuSeconds(gwPid);
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      const key = `s${++keys}`;
      const frame = JSON.stringify([2, `b${++frameId}`, 'StatusNotification', { connectorId: 1, status: i % 2 ? 'Charging' : 'SuspendedEV', errorCode: 'NoError', info: key, timestamp: new Date().toISOString() }]);
      sent.set(key, wall());
      stations[i % stations.length]!.send(frame);
    }
    const sendSeconds = (performance.now() - start) / 1000;
    await sleep(1500);
    const cpuMs = (cpuSeconds(gwPid) - cpu0) * 1000;

    const receipts = (await Promise.all(children.map((c) => ask<{ receipts: Receipt[] }>(c, { cmd: 'report' }, 'report')))).flatMap((r) => r.receipts);
    for (const c of children) c.send({ cmd: 'close' });
    await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));

    const lat: number[] = [];
    for (const [key, at] of receipts) {
      const t = sent.get(key);
      if (t !== undefined) lat.push(at - t);
    }
    lat.sort((a, b) => a - b);
    const watchers = new Map<string, number>();
    for (const id of watch) watchers.set(id, (watchers.get(id) ?? 0) + 1);
    let expected = 0;
    for (let i = 0; i < total; i++) expected += watchers.get(ids[i % ids.length]!) ?? 0;
    console.log(
      `scenario: ${clients} clients (${connected} connected, connect ${connectS.toFixed(1)} s) on ${stationCount} stations, ` +
        `${total} frames at ${(total / sendSeconds).toFixed(0)}/s, ${lat.length}/${expected} receipts\n` +
        `  station frame → client receipt: p50 ${ms(percentile(lat, 50))} ms, p99 ${ms(percentile(lat, 99))} ms, max ${ms(lat.at(-1) ?? NaN)} ms\n` +
        `  gateway CPU per frame (relay, log, model, push): ${ms(cpuMs / total)} ms; gateway RSS ${(rssBytes(gwPid) / 2 ** 20).toFixed(0)} MiB`,
    );
    if (connected < clients || lat.length < expected) {
      console.error(`push-station bench: ${expected - lat.length} receipts missing, ${clients - connected} clients not connected`);
      ok = false;
    }
  }
  for (const s of stations) s.terminate();
} finally {
  gw.child.kill('SIGTERM');
  await new Promise((r) => gw.child.once('exit', r));
}
process.exit(ok ? 0 : 1);
