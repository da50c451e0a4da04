// Relay overhead: N stations each send one CALL per second, first straight to the SteVe stand-in, then through
// the gateway; prints round-trip percentiles for both, the difference, and the gateway's CPU and RSS.
// Usage: npx tsx bench/relay/run.ts [--stations 1000] [--seconds 20]
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { arg, cpuSeconds, percentile, rssBytes, startProcess } from '../lib/proc.js';

const stations = arg('stations', 1000);
const seconds = arg('seconds', 20);
const warmup = 3;

async function load(urlFor: (id: string) => string, label: string): Promise<number[]> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < stations; i++) {
    const ws = new WebSocket(urlFor(`BENCH${i}`), ['ocpp1.6'], { perMessageDeflate: false });
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  }
  const rtts: number[] = [];
  const sentAt = new Map<string, number>();
  const measuring = { on: false };
  sockets.forEach((ws) => ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as [number, string];
    const t = sentAt.get(f[1]);
    if (t !== undefined) {
      sentAt.delete(f[1]);
      if (measuring.on) rtts.push(performance.now() - t);
    }
  }));
  let seq = 0;
  const timers = sockets.map((ws, i) => {
    // Staggered: station i sends at offset i/N of each second.
    const start = setTimeout(() => {
      const tick = () => {
        const id = `${i}-${++seq}`;
        sentAt.set(id, performance.now());
        ws.send(`[2,"${id}","Heartbeat",{}]`);
      };
      tick();
      timers[i] = setInterval(tick, 1000);
    }, (i * 1000) / stations);
    return start as NodeJS.Timeout;
  });
  await new Promise((r) => setTimeout(r, warmup * 1000));
  measuring.on = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring.on = false;
  timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
  sockets.forEach((ws) => ws.terminate());
  console.log(`${label}: ${rtts.length} round trips measured over ${seconds} s`);
  return rtts.sort((a, b) => a - b);
}

function summary(rtts: number[]): { p50: number; p99: number; max: number } {
  return { p50: percentile(rtts, 50), p99: percentile(rtts, 99), max: rtts[rtts.length - 1] ?? Number.NaN };
}

const procs: ChildProcess[] = [];
try {
  const steve = await startProcess('bench/relay/steve-proc.ts', {}, /steve-port (\d+)/);
  procs.push(steve.child);
  const steveUrl = `ws://127.0.0.1:${steve.port}/steve/websocket/CentralSystemService`;
  const gw = await startProcess('src/main.ts', {
    // info: the start-up line carries the port; per-station lines go to a pipe nobody reads synchronously.
    PORT: '0', HOST: '127.0.0.1', STEVE_WS_URL: steveUrl, LOG_LEVEL: 'info', SIM_STATIONS: '0',
    DATA_DIR: `/tmp/cb-bench-relay-${process.pid}`,
  }, /"port":(\d+)/);
  procs.push(gw.child);
  const gwPid = gw.child.pid as number;

  const direct = summary(await load((id) => `${steveUrl}/${id}`, 'direct'));
  const cpu0 = cpuSeconds(gwPid);
  const t0 = performance.now();
  const via = summary(await load((id) => `ws://127.0.0.1:${gw.port}/ocpp/${id}`, 'via gateway'));
  const cpuShare = (cpuSeconds(gwPid) - cpu0) / ((performance.now() - t0) / 1000);
  const rss = rssBytes(gwPid);
  const f = (n: number) => n.toFixed(3).padStart(8);
  console.log(`\nstations=${stations} rate=${stations} CALL/s duration=${seconds}s (after ${warmup}s warm-up)`);
  console.log('                 p50 ms   p99 ms   max ms');
  console.log(`direct         ${f(direct.p50)} ${f(direct.p99)} ${f(direct.max)}`);
  console.log(`via gateway    ${f(via.p50)} ${f(via.p99)} ${f(via.max)}`);
  console.log(`added          ${f(via.p50 - direct.p50)} ${f(via.p99 - direct.p99)} ${f(via.max - direct.max)}`);
  console.log(`gateway CPU ${(cpuShare * 100).toFixed(1)} % of one core (incl. message log), RSS ${(rss / 1048576).toFixed(0)} MiB`);
} finally {
  for (const p of procs) p.kill('SIGTERM');
}
