// Relay overhead: N stations each send one CALL per second to the SteVe stand-in three ways: straight, through a
// bare `ws` pass-through proxy (the floor: what one extra Node process hop costs on this machine, with no parsing,
// bookkeeping or observers), and through the gateway. Each round runs all three, in rotating order; round-trip
// percentiles per path and round, their medians, what the proxy and the gateway add, and the gateway's CPU and RSS.
// --mirror adds a fourth path: a second gateway, alike but for one mirror upstream (a `ws` central system in its
// own process) that gets every CALL and answer, and prints what the mirror adds as a ratio to the gateway alone,
// in p99 and in CPU: the whole process's and its main thread's (the relay's loop; the mirror worker is a thread of
// its own).
// Usage: npx tsx bench/relay/run.ts [--stations 1000] [--seconds 20] [--rounds 3] [--pin] [--mirror] [--compare DIR] [--compare-args "node flags"] [--compare-env "K=V ..."]
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { arg, cpuSeconds, median, percentile, rssBytes, startProcess, stopProcess } from '../lib/proc.js';

const stations = arg('stations', 1000);
const seconds = arg('seconds', 20);
const warmup = 3;
const rounds = arg('rounds', 3);
// --pin: the relay under test (gateway or bare proxy) gets core 1 to itself; this script and the SteVe stand-in
// share core 0, so the relay never waits for a core. (Measured on this VM: the floor's p99 barely moves with it.)
const pin = process.argv.includes('--pin');
const withMirror = process.argv.includes('--mirror');
// --compare DIR: a second gateway from another checkout (e.g. the code before a change) as one more path of the
// same rounds, so before and after are measured side by side on this shared machine.
// --compare-args "...": node flags for that gateway (alone, this checkout with other flags, e.g. a young generation).
const compareIdx = process.argv.indexOf('--compare');
const compareArgsIdx = process.argv.indexOf('--compare-args');
const compareArgs = compareArgsIdx >= 0 ? (process.argv[compareArgsIdx + 1] ?? '').split(' ').filter(Boolean) : [];
const compareDir = compareIdx >= 0 ? process.argv[compareIdx + 1] : undefined;
// --compare-env "K=V ...": environment for that gateway (this checkout with another setting, e.g. HEAP_GROWTH_MAX_PERCENT=0).
const compareEnvIdx = process.argv.indexOf('--compare-env');
const compareEnv: Record<string, string> = Object.fromEntries(
  (compareEnvIdx >= 0 ? (process.argv[compareEnvIdx + 1] ?? '').split(' ').filter(Boolean) : []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const compared = compareIdx >= 0 || compareArgsIdx >= 0 || compareEnvIdx >= 0;
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

async function load(urlFor: (id: string) => string, label: string): Promise<{ rtts: number[]; answered: number }> {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < stations; i++) {
    const ws = new WebSocket(urlFor(`BENCH${i}`), ['ocpp1.6'], { perMessageDeflate: false });
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  }
  const rtts: number[] = [];
  const sentAt = new Map<string, number>();
  const measuring = { on: false };
  let answered = 0;
  sockets.forEach((ws) => ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as [number, string];
    const t = sentAt.get(f[1]);
    if (t !== undefined) {
      answered++;
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
  return { rtts: rtts.sort((a, b) => a - b), answered };
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
  // The gateway and its floor carry the GC report (bench/lib/gc-report.mjs): allocation per call and GC pauses.
  const gcArgs = ['--import', './bench/lib/gc-report.mjs'];
  const gcFile = (name: string): string => `/tmp/cb-bench-relay-gc-${process.pid}-${name}.json`;
  const proxy = await startProcess('bench/relay/floor-proxy.ts', { UPSTREAM_URL: steveUrl, GC_REPORT_FILE: gcFile('proxy') }, /"port":(\d+)/, gcArgs);
  procs.push(proxy.child);
  pinTo(proxy.child.pid, 1);
  const gw = await startProcess('src/main.ts', {
    // info: the start-up line carries the port; per-station lines go to a pipe nobody reads synchronously.
    PORT: '0', HOST: '127.0.0.1', STEVE_WS_URL: steveUrl, LOG_LEVEL: 'info', SIM_STATIONS: '0',
    DATA_DIR: `/tmp/cb-bench-relay-${process.pid}`, GC_REPORT_FILE: gcFile('gateway'),
  }, /"port":(\d+)/, gcArgs);
  procs.push(gw.child);
  pinTo(gw.child.pid, 1);
  const gwPid = gw.child.pid as number;

  // The gateway processes whose CPU is measured while their path runs.
  const cpuOf = new Map<string, { pid: number; cpu: number; mainCpu: number; seconds: number; answered: number }>([
    ['via gateway', { pid: gwPid, cpu: 0, mainCpu: 0, seconds: 0, answered: 0 }],
    ['bare ws proxy', { pid: proxy.child.pid as number, cpu: 0, mainCpu: 0, seconds: 0, answered: 0 }],
  ]);
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
    cpuOf.set('gateway + mirror', { pid: gwm.child.pid as number, cpu: 0, mainCpu: 0, seconds: 0, answered: 0 });
  }
  if (compared) {
    const gwc = await startProcess('src/main.ts', {
      PORT: '0', HOST: '127.0.0.1', STEVE_WS_URL: steveUrl, LOG_LEVEL: 'info', SIM_STATIONS: '0', DATA_DIR: `/tmp/cb-bench-relay-compare-${process.pid}`, ...compareEnv,
    }, /"port":(\d+)/, compareArgs, compareDir);
    procs.push(gwc.child);
    pinTo(gwc.child.pid, 1);
    paths.push({ name: 'compared gateway', url: (id: string) => `ws://127.0.0.1:${gwc.port}/ocpp/${id}` });
    cpuOf.set('compared gateway', { pid: gwc.child.pid as number, cpu: 0, mainCpu: 0, seconds: 0, answered: 0 });
  }
  const results = new Map<string, Summary[]>(paths.map((p) => [p.name, []]));
  // From here on the GC reports count (start-up and the first connections left out).
  proxy.child.kill('SIGUSR2');
  gw.child.kill('SIGUSR2');
  const f = (n: number) => n.toFixed(3).padStart(8);
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so that no path always runs first (warm caches) or last (a tired machine).
    const order = paths.map((_, i) => paths[(i + round) % paths.length]!);
    for (const path of order) {
      const measured = cpuOf.get(path.name);
      const cpu0 = measured ? cpuSeconds(measured.pid) : 0;
      const main0 = measured ? mainThreadCpu(measured.pid) : 0;
      const t0 = performance.now();
      const { rtts, answered } = await load(path.url, `round ${round + 1} ${path.name}`);
      const s = summary(rtts);
      if (measured) {
        measured.cpu += cpuSeconds(measured.pid) - cpu0;
        measured.mainCpu += mainThreadCpu(measured.pid) - main0;
        measured.seconds += (performance.now() - t0) / 1000;
        measured.answered += answered;
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
    const share = (of: (name: string) => number): string => (of('gateway + mirror') / of('via gateway')).toFixed(2);
    console.log(`gateway + mirror CPU ${cpuShare('gateway + mirror').toFixed(1)} % of one core (${share(cpuShare)}x the gateway alone); main thread ${mainShare('gateway + mirror').toFixed(1)} % (${share(mainShare)}x)`);
  }

  // Issue 17's ratios, each to the floor measured in this run (no arithmetic left to the reader).
  type GcReport = { allocatedBytes: number; gcCount: number; majors: number; pauseP50Ms: number; pauseP99Ms: number; pauseMaxMs: number; pauseTotalMs: number };
  await Promise.all([stopProcess(gw.child), stopProcess(proxy.child)]);
  const gcOf = (name: string): GcReport | undefined => {
    try { return JSON.parse(readFileSync(gcFile(name), 'utf8')) as GcReport; } catch { return undefined; }
  };
  const cpuPerCallUs = (name: string): number => { const m = cpuOf.get(name)!; return (m.cpu / Math.max(1, m.answered)) * 1e6; };
  const ratio = (a: number, b: number, target: number): string => `${(a / b).toFixed(2)}x (target <= ${target}) ${a / b <= target ? 'met' : 'NOT met'}`;
  const gwP50 = added('via gateway', 'direct', 'p50');
  const gwP99 = added('via gateway', 'direct', 'p99');
  const pxP50 = added('bare ws proxy', 'direct', 'p50');
  const pxP99 = added('bare ws proxy', 'direct', 'p99');
  console.log('\nratios to the floor (bare ws proxy), same run:');
  console.log(`  added p50             gateway ${gwP50.toFixed(3)} ms / proxy ${pxP50.toFixed(3)} ms = ${ratio(gwP50, pxP50, 1.25)}`);
  console.log(`  added p99             gateway ${gwP99.toFixed(3)} ms / proxy ${pxP99.toFixed(3)} ms = ${ratio(gwP99, pxP99, stations >= 5000 ? 1.5 : 1.25)}`);
  if (compared) {
    const cP99 = added('compared gateway', 'direct', 'p99');
    const cP50 = added('compared gateway', 'direct', 'p50');
    console.log(`  compared gateway (${compareDir ?? 'this checkout'} ${[...compareArgs, ...Object.entries(compareEnv).map(([k, v]) => `${k}=${v}`)].join(' ')}): added p50 ${cP50.toFixed(3)} ms = ${(cP50 / pxP50).toFixed(2)}x, p99 ${cP99.toFixed(3)} ms = ${(cP99 / pxP99).toFixed(2)}x the proxy's; CPU per call ${cpuPerCallUs('compared gateway').toFixed(0)} µs = ${(cpuPerCallUs('compared gateway') / cpuPerCallUs('bare ws proxy')).toFixed(2)}x`);
  }
  console.log(`  CPU per relayed call  gateway ${cpuPerCallUs('via gateway').toFixed(0)} µs / proxy ${cpuPerCallUs('bare ws proxy').toFixed(0)} µs = ${ratio(cpuPerCallUs('via gateway'), cpuPerCallUs('bare ws proxy'), 1.5)}`);
  const calls = (name: string): number => Math.max(1, cpuOf.get(name)!.answered);
  for (const [name, label] of [['gateway', 'via gateway'], ['proxy', 'bare ws proxy']] as const) {
    const g = gcOf(name);
    if (!g) { console.log(`  ${name}: no GC report`); continue; }
    console.log(`  ${name.padEnd(8)} allocated ${(g.allocatedBytes / calls(label) / 1024).toFixed(1)} KiB per relayed call; GC pauses n=${g.gcCount} (${g.majors} not scavenges) p50 ${g.pauseP50Ms.toFixed(2)} p99 ${g.pauseP99Ms.toFixed(2)} max ${g.pauseMaxMs.toFixed(2)} ms, ${g.pauseTotalMs.toFixed(0)} ms in all`);
  }
} finally {
  for (const p of procs) p.kill('SIGTERM');
}
