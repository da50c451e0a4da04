// Relay overhead: N stations each send one CALL per second to the SteVe stand-in three ways: straight, through a
// bare `ws` pass-through proxy (the floor: what one extra Node process hop costs on this machine, with no parsing,
// bookkeeping or observers), and through the gateway. Each round runs all three, in rotating order; round-trip
// percentiles per path and round, their medians, what the proxy and the gateway add, and the gateway's CPU and RSS.
// --mirror adds a fourth path: a second gateway, alike but for one mirror upstream (a `ws` central system in its
// own process) that gets every CALL and answer, and prints what the mirror adds as a ratio to the gateway alone,
// in p99 and in CPU: the whole process's and its main thread's (the relay's loop; the mirror worker is a thread of
// its own).
// Usage: npx tsx bench/relay/run.ts [--stations 1000] [--seconds 20] [--rounds 3] [--pin] [--mirror]
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { arg, cpuSeconds, median, percentile, rssBytes, startProcess } from '../lib/proc.js';

const stations = arg('stations', 1000);
const seconds = arg('seconds', 20);
const warmup = 3;
const rounds = arg('rounds', 3);
// --pin: the relay under test (gateway or bare proxy) gets core 1 to itself; this script and the SteVe stand-in
// share core 0, so the relay never waits for a core. (Measured on this VM: the floor's p99 barely moves with it.)
const pin = process.argv.includes('--pin');
const withMirror = process.argv.includes('--mirror');
/** CPU seconds of a process's main thread (its event loop), from /proc like cpuSeconds. */
const mainThreadCpu = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const pinTo = (pid: number | undefined, cpu: number): void => {
  if (pin && pid !== undefined) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
};
pinTo(process.pid, 0);

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

type Summary = { p50: number; p99: number; max: number };

function summary(rtts: number[]): Summary {
  return { p50: percentile(rtts, 50), p99: percentile(rtts, 99), max: rtts[rtts.length - 1] ?? Number.NaN };
}

const procs: ChildProcess[] = [];
try {
  const steve = await startProcess('bench/relay/steve-proc.ts', {}, /steve-port (\d+)/);
  procs.push(steve.child);
  pinTo(steve.child.pid, 0);
  const steveUrl = `ws://127.0.0.1:${steve.port}/steve/websocket/CentralSystemService`;
  const proxy = await startProcess('bench/relay/floor-proxy.ts', { UPSTREAM_URL: steveUrl }, /"port":(\d+)/);
  procs.push(proxy.child);
  pinTo(proxy.child.pid, 1);
  const gw = await startProcess('src/main.ts', {
    // info: the start-up line carries the port; per-station lines go to a pipe nobody reads synchronously.
    PORT: '0', HOST: '127.0.0.1', STEVE_WS_URL: steveUrl, LOG_LEVEL: 'info', SIM_STATIONS: '0',
    DATA_DIR: `/tmp/cb-bench-relay-${process.pid}`,
  }, /"port":(\d+)/);
  procs.push(gw.child);
  pinTo(gw.child.pid, 1);
  const gwPid = gw.child.pid as number;

  // The gateway processes whose CPU is measured while their path runs.
  const cpuOf = new Map<string, { pid: number; cpu: number; mainCpu: number; seconds: number }>([['via gateway', { pid: gwPid, cpu: 0, mainCpu: 0, seconds: 0 }]]);
  const paths: { name: string; url: (id: string) => string }[] = [
    { name: 'direct', url: (id: string) => `${steveUrl}/${id}` },
    { name: 'bare ws proxy', url: (id: string) => `ws://127.0.0.1:${proxy.port}/ocpp/${id}` },
    { name: 'via gateway', url: (id: string) => `ws://127.0.0.1:${gw.port}/ocpp/${id}` },
  ];
  if (withMirror) {
    // The mirror's central system shares core 0 with the SteVe stand-in; its gateway gets core 1 like the other.
    const mirror = await startProcess('bench/relay/mirror-proc.ts', {}, /mirror-port (\d+)/);
    procs.push(mirror.child);
    pinTo(mirror.child.pid, 0);
    const dir = `/tmp/cb-bench-relay-mirror-${process.pid}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/config.json`, JSON.stringify({ mirrors: [{ id: 'bench', url: `ws://127.0.0.1:${mirror.port}/mirror` }] }));
    const gwm = await startProcess('src/main.ts', {
      PORT: '0', HOST: '127.0.0.1', STEVE_WS_URL: steveUrl, LOG_LEVEL: 'info', SIM_STATIONS: '0', DATA_DIR: dir, CONFIG_FILE: `${dir}/config.json`,
    }, /"port":(\d+)/);
    procs.push(gwm.child);
    pinTo(gwm.child.pid, 1);
    paths.push({ name: 'gateway + mirror', url: (id: string) => `ws://127.0.0.1:${gwm.port}/ocpp/${id}` });
    cpuOf.set('gateway + mirror', { pid: gwm.child.pid as number, cpu: 0, mainCpu: 0, seconds: 0 });
  }
  const results = new Map<string, Summary[]>(paths.map((p) => [p.name, []]));
  const f = (n: number) => n.toFixed(3).padStart(8);
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so that no path always runs first (warm caches) or last (a tired machine).
    const order = paths.map((_, i) => paths[(i + round) % paths.length]!);
    for (const path of order) {
      const measured = cpuOf.get(path.name);
      const cpu0 = measured ? cpuSeconds(measured.pid) : 0;
      const main0 = measured ? mainThreadCpu(measured.pid) : 0;
      const t0 = performance.now();
      const s = summary(await load(path.url, `round ${round + 1} ${path.name}`));
      if (measured) {
        measured.cpu += cpuSeconds(measured.pid) - cpu0;
        measured.mainCpu += mainThreadCpu(measured.pid) - main0;
        measured.seconds += (performance.now() - t0) / 1000;
      }
      results.get(path.name)!.push(s);
      console.log(`  p50 ${f(s.p50)}  p99 ${f(s.p99)}  max ${f(s.max)} ms`);
    }
  }
  const med = (name: string, k: keyof Summary) => median(results.get(name)!.map((s) => s[k]));
  const rss = rssBytes(gwPid);
  console.log(`\nstations=${stations} rate=${stations} CALL/s, ${rounds} rounds of ${seconds} s per path (after ${warmup} s warm-up each)${pin ? ', pinned' : ''}`);
  console.log('medians over rounds   p50 ms   p99 ms   max ms');
  for (const p of paths) console.log(`${p.name.padEnd(20)} ${f(med(p.name, 'p50'))} ${f(med(p.name, 'p99'))} ${f(med(p.name, 'max'))}`);
  const added = (name: string, base: string, k: keyof Summary) => median(results.get(name)!.map((s, i) => s[k] - results.get(base)![i]![k]));
  console.log(`proxy adds           ${f(added('bare ws proxy', 'direct', 'p50'))} ${f(added('bare ws proxy', 'direct', 'p99'))}   (the floor of one process hop)`);
  console.log(`gateway adds         ${f(added('via gateway', 'direct', 'p50'))} ${f(added('via gateway', 'direct', 'p99'))}`);
  console.log(`gateway over proxy   ${f(added('via gateway', 'bare ws proxy', 'p50'))} ${f(added('via gateway', 'bare ws proxy', 'p99'))}   (what the gateway's own work adds)`);
  if (withMirror) {
    const alone = added('via gateway', 'direct', 'p99');
    const mirrored = added('gateway + mirror', 'direct', 'p99');
    console.log(`gateway+mirror adds  ${f(added('gateway + mirror', 'direct', 'p50'))} ${f(mirrored)}`);
    const overProxy = added('gateway + mirror', 'bare ws proxy', 'p99') / added('via gateway', 'bare ws proxy', 'p99');
    console.log(`one mirror: the gateway's added p99 is ${(mirrored / alone).toFixed(2)}x its added p99 without a mirror (target <= 1.1); over the proxy ${overProxy.toFixed(2)}x`);
  }
  const cpuShare = (name: string): number => { const m = cpuOf.get(name)!; return (m.cpu / m.seconds) * 100; };
  const mainShare = (name: string): number => { const m = cpuOf.get(name)!; return (m.mainCpu / m.seconds) * 100; };
  console.log(`gateway CPU ${cpuShare('via gateway').toFixed(1)} % of one core (incl. message log and event model; main thread ${mainShare('via gateway').toFixed(1)} %), RSS ${(rss / 1048576).toFixed(0)} MiB`);
  if (withMirror) {
    const ratio = (share: (name: string) => number): string => (share('gateway + mirror') / share('via gateway')).toFixed(2);
    console.log(`gateway + mirror CPU ${cpuShare('gateway + mirror').toFixed(1)} % of one core (${ratio(cpuShare)}x the gateway alone); main thread ${mainShare('gateway + mirror').toFixed(1)} % (${ratio(mainShare)}x)`);
  }
} finally {
  for (const p of procs) p.kill('SIGTERM');
}
