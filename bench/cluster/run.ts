// The cost of the cluster machinery: the same relay and push load against one gateway (no Redis) and against three
// nodes with Redis and HAProxy, in the same run. Per phase it reports round trips, CPU per relayed call and per
// pushed event (all gateway nodes together, Redis and HAProxy shown apart), and for the cluster the time stations of
// a node killed with -9 need to be answered again through HAProxy.
// Usage: npm run bench:cluster -- [--stations 300] [--push-stations 100] [--clients 20] [--seconds 15] [--control 0|1]
//   [--failover 1|0] [--machinery 1|0] [--machinery-rounds N]
// --machinery-rounds N measures only the machinery: N rounds of one node without and one with Redis, in alternating
// order, each round's ratios and their median (a machine whose speed drifts between two phases moves one round, not
// the verdict).
// --control 1 adds a third setup: three nodes behind HAProxy without Redis (three independent gateways), the cost
// of splitting the same load over three processes on this machine, without any cluster machinery.
// BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") is passed to the gateway nodes; each phase's start is
// printed on the monotonic clock V8's profiles use (`mono=` µs), for `node bench/lib/cpu-report.mjs file from to`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { io as ioClient, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { GATEWAY_NODE_FLAGS } from '../../src/node-flags.js';
import { arg, cpuSeconds, percentile, root, startProcess, stopProcess, threadCpuSeconds, threadSleeps } from '../lib/proc.js';

const stations = arg('stations', 300);
const pushStations = arg('push-stations', 100);
const clients = arg('clients', 20);
const seconds = arg('seconds', 15);
const control = arg('control', 0) === 1;
const withFailover = arg('failover', 1) === 1;
// --machinery 1 (default) adds one node with Redis (no HAProxy): the cluster machinery's cost with the process count
// unchanged, set against the single plain node.
const machinery = arg('machinery', 1) === 1;
const machineryRounds = arg('machinery-rounds', 0);
// The nodes run with the gateway's own flags (src/node-flags.ts, what npm start runs), then BENCH_NODE_ARGS.
const nodeArgs = [...GATEWAY_NODE_FLAGS, ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
const SECRET = 'bench-cluster-secret-0123456789-abcdefgh';
const procs: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function spawnTracked(cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { stdio: 'ignore' });
  procs.push(p);
  // A program that is not installed must fail the run through `finally` (which stops the nodes), not crash past it.
  p.once('error', (err) => progress(`${cmd} could not be started: ${err.message}`));
  return p;
}

interface Setup { name: string; nodes: { pid: number; port: number; child: ChildProcess }[]; stationPort: number; extra: { name: string; pid: number }[]; redisPort?: number }

/** Commands Redis has served so far, by name (INFO commandstats): round trips are most of what the cluster costs. */
function redisCalls(setup: Setup): Map<string, number> {
  const out = new Map<string, number>();
  if (setup.redisPort === undefined) return out;
  const text = execFileSync('redis-cli', ['-p', String(setup.redisPort), 'INFO', 'commandstats'], { encoding: 'utf8' });
  for (const m of text.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** Redis commands per unit between two readings, the busiest first ("xread 0.52, evalsha 0.34, ..."). */
function perUnit(before: Map<string, number>, after: Map<string, number>, units: number): string {
  const rows = [...after].map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / Math.max(1, units)] as const).filter(([, v]) => v >= 0.005);
  return rows.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') || '-';
}

/** A node as `npm start` runs it (compiled, no tsx), started one after another; its port is read from its log. */
async function startNodes(n: number, env: Record<string, string>): Promise<Setup['nodes']> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, [...nodeArgs, 'dist/main.js'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SIM_STATIONS: '0', JWT_SECRET: SECRET,
        DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-bench-cluster-')), ...env, ...(env.REDIS_URL ? { CLUSTER_NODE_ID: `node-${i}` } : {}),
      },
    });
    procs.push(child);
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`node ${i} did not report its port: ${text.slice(-2000)}`)), 120_000);
      child.stdout?.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /"port":(\d+),"mode"/.exec(text);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`node ${i} exited ${code}: ${text.slice(-2000)}`)));
    });
    child.stdout?.removeAllListeners('data');
    child.stdout?.resume();
    out.push({ pid: child.pid as number, port, child });
  }
  return out;
}

function openStation(port: number, id: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp1.6'], { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Every station sends `action` once a second, staggered; returns round trips and the count answered. */
async function drive(sockets: WebSocket[], frame: (id: string, now: number) => string, secs: number): Promise<number[]> {
  const sentAt = new Map<string, number>();
  const rtts: number[] = [];
  const on = (d: WebSocket.RawData): void => {
    const f = JSON.parse(d.toString()) as [number, string];
    const t = sentAt.get(f[1]);
    if (t !== undefined) {
      sentAt.delete(f[1]);
      rtts.push(performance.now() - t);
    }
  };
  sockets.forEach((ws) => ws.on('message', on));
  let seq = 0;
  const timers: NodeJS.Timeout[] = [];
  sockets.forEach((ws, i) => {
    timers.push(setTimeout(() => {
      const tick = (): void => {
        const id = `m${++seq}`;
        sentAt.set(id, performance.now());
        ws.send(frame(id, Date.now()));
      };
      tick();
      timers.push(setInterval(tick, 1000));
    }, (i * 1000) / sockets.length));
  });
  await new Promise((r) => setTimeout(r, secs * 1000));
  timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
  await new Promise((r) => setTimeout(r, 500));
  sockets.forEach((ws) => ws.off('message', on));
  return rtts.sort((a, b) => a - b);
}

/** CPU of the gateway nodes, of their main (JavaScript) threads alone, and of the extra processes. The rest of a
 * node's CPU is its other threads: V8's compiler and GC helpers, libuv's pool (file writes), a profiler if any. */
function cpuOf(setup: Setup): { nodes: number; main: number; sleeps: number; extra: number[] } {
  return {
    sleeps: setup.nodes.reduce((s, n) => s + threadSleeps(n.pid, n.pid), 0),
    nodes: setup.nodes.reduce((s, n) => s + cpuSeconds(n.pid), 0),
    main: setup.nodes.reduce((s, n) => s + threadCpuSeconds(n.pid, n.pid), 0),
    extra: setup.extra.map((e) => cpuSeconds(e.pid)),
  };
}

interface Result { relaySleepsPerCall: number; pushSleepsPerEvent: number; relayMainPerCall: number; pushMainPerEvent: number; redisRelay: string; redisPush: string; idlePerS: number; relayMarginal: number; pushMarginal: number; relayCpuPerCall: number; relayP50: number; relayP99: number; relayCalls: number; pushCpuPerEvent: number; pushed: number; pushP50: number; pushP99: number; extraRelay: number[]; extraPush: number[] }

const progress = (msg: string): void => void process.stderr.write(`[bench/cluster] ${msg}\n`);
/** A phase boundary on the clock of V8's CPU profiles (CLOCK_MONOTONIC, µs), and each node's CPU so far. */
const mark = (setup: Setup, phase: string): void => progress(`${setup.name}: ${phase} mono=${process.hrtime.bigint() / 1000n} cpu=${setup.nodes.map((n) => `${n.pid}:${cpuSeconds(n.pid).toFixed(2)}`).join(',')}`);

async function measure(setup: Setup): Promise<Result> {
  progress(`${setup.name}: connecting ${stations} stations`);
  const sockets: WebSocket[] = [];
  for (let i = 0; i < stations; i++) sockets.push(await openStation(setup.stationPort, `BC${i}`));
  await new Promise((r) => setTimeout(r, 1500));
  // Idle: stations connected and silent; what the processes burn anyway (timers, heartbeats, GC), per second.
  mark(setup, 'idle start');
  let c0 = cpuOf(setup);
  let t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  mark(setup, 'idle end');
  const idlePerS = (cpuOf(setup).nodes - c0.nodes) / ((performance.now() - t0) / 1000);
  // Relay: Heartbeats only, nobody subscribed.
  await drive(sockets, (id) => `[2,"${id}","Heartbeat",{}]`, 2);
  mark(setup, 'relay start');
  c0 = cpuOf(setup);
  const q0 = redisCalls(setup);
  t0 = performance.now();
  const relay = await drive(sockets, (id) => `[2,"${id}","Heartbeat",{}]`, seconds);
  let c1 = cpuOf(setup);
  mark(setup, 'relay end');
  const redisRelay = perUnit(q0, redisCalls(setup), relay.length);
  const relayCpu = c1.nodes - c0.nodes;
  const [relayMain0, relayMain1] = [c0.main, c1.main];
  const relaySleeps = c1.sleeps - c0.sleeps;
  const relayIdle = idlePerS * (performance.now() - t0) / 1000;
  const extraRelay = c1.extra.map((x, i) => (x - c0.extra[i]!) / relay.length);

  progress(`${setup.name}: relay phase done (${relay.length} calls)`);
  // Push: clients spread over the nodes, all subscribed to everything; some stations send a status a second.
  const token = jwt.sign({ sub: 'bench', role: 'operator' }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
  const socks: Socket[] = [];
  const lat: number[] = [];
  let pushed = 0;
  for (let i = 0; i < clients; i++) {
    const node = setup.nodes[i % setup.nodes.length]!;
    const s = ioClient(`http://127.0.0.1:${node.port}`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token } });
    await new Promise<void>((r, j) => { s.once('connect', () => r()); s.once('connect_error', j); });
    await s.timeout(10_000).emitWithAck('subscribe', { all: true });
    s.on('event', (e: { type: string; data: { info?: string } }) => {
      if (e.type !== 'status' || typeof e.data.info !== 'string') return;
      pushed++;
      lat.push(Date.now() - Number(e.data.info));
    });
    socks.push(s);
  }
  progress(`${setup.name}: ${clients} push clients subscribed`);
  const senders = sockets.slice(0, pushStations);
  const status = (id: string, now: number): string => `[2,"${id}","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available","info":"${now}"}]`;
  await drive(senders, status, 2);
  pushed = 0;
  lat.length = 0;
  mark(setup, 'push start');
  c0 = cpuOf(setup);
  const q1 = redisCalls(setup);
  t0 = performance.now();
  await drive(senders, status, seconds);
  c1 = cpuOf(setup);
  mark(setup, 'push end');
  const redisPush = perUnit(q1, redisCalls(setup), pushed / clients);
  const pushCpu = c1.nodes - c0.nodes;
  const pushIdle = idlePerS * (performance.now() - t0) / 1000;
  const extraPush = c1.extra.map((x, i) => (x - c0.extra[i]!) / Math.max(1, pushed));
  socks.forEach((s) => s.close());
  sockets.forEach((ws) => ws.terminate());
  lat.sort((a, b) => a - b);
  return {
    relaySleepsPerCall: relaySleeps / relay.length, pushSleepsPerEvent: (c1.sleeps - c0.sleeps) / Math.max(1, pushed),
    relayMainPerCall: (relayMain1 - relayMain0) / relay.length, pushMainPerEvent: (c1.main - c0.main) / Math.max(1, pushed),
    redisRelay, redisPush, idlePerS, relayMarginal: (relayCpu - relayIdle) / relay.length, pushMarginal: (pushCpu - pushIdle) / Math.max(1, pushed),
    relayCpuPerCall: relayCpu / relay.length, relayP50: percentile(relay, 50), relayP99: percentile(relay, 99), relayCalls: relay.length,
    pushCpuPerEvent: pushCpu / Math.max(1, pushed), pushed, pushP50: percentile(lat, 50), pushP99: percentile(lat, 99), extraRelay, extraPush,
  };
}

/** Kill -9 a node holding stations; time until every one of its stations is answered again through HAProxy. */
async function failover(setup: Setup): Promise<{ orphans: number; ms: number }> {
  const sockets = new Map<string, WebSocket>();
  for (let i = 0; i < 60; i++) sockets.set(`FO${i}`, await openStation(setup.stationPort, `FO${i}`));
  await new Promise((r) => setTimeout(r, 1500));
  const victim = setup.nodes[setup.nodes.length - 1]!;
  const closed: string[] = [];
  for (const [id, ws] of sockets) ws.once('close', () => closed.push(id));
  const t0 = performance.now();
  victim.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  const orphans = [...closed];
  await Promise.all(orphans.map(async (id) => {
    for (;;) {
      try {
        const ws = await openStation(setup.stationPort, id);
        const answered = await new Promise<boolean>((r) => {
          ws.once('message', () => r(true));
          ws.once('close', () => r(false));
          ws.send('[2,"boot","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]');
        });
        if (answered) return;
      } catch { /* the balancer has not marked the node down yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  }));
  const ms = performance.now() - t0;
  for (const ws of sockets.values()) ws.terminate();
  return { orphans: orphans.length, ms };
}

/** HAProxy in front of the nodes, round robin, as the cluster tests run it. */
async function balancer(nodes: Setup['nodes']): Promise<{ port: number; pid: number; child: ChildProcess }> {
  const port = await freePort();
  const cfg = path.join(mkdtempSync(path.join(os.tmpdir(), 'cb-bench-lb-')), 'haproxy.cfg');
  writeFileSync(cfg, ['global', '  maxconn 8000', 'defaults', '  mode http', '  timeout connect 1s', '  timeout client 60s', '  timeout server 60s', '  timeout tunnel 1h',
    'frontend stations', `  bind 127.0.0.1:${port}`, '  default_backend gateways', 'backend gateways', '  balance roundrobin',
    ...nodes.map((n, i) => `  server n${i} 127.0.0.1:${n.port} check inter 300 fall 2 rise 2`), ''].join('\n'));
  const child = spawnTracked('haproxy', ['-f', cfg, '-db']);
  await Promise.race([waitPort(port), new Promise((_, reject) => {
    child.once('exit', (code) => reject(new Error(`haproxy exited ${code}`)));
    child.once('error', reject);
  })]);
  return { port, pid: child.pid as number, child };
}

/** One node without Redis against one node with it, `rounds` times in alternating order. */
async function machineryOnly(STEVE_WS_URL: string, rounds: number): Promise<void> {
  const redisPort = await freePort();
  const redis = spawnTracked('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitPort(redisPort);
  const plain = async (): Promise<Result> => {
    const n = await startNodes(1, { STEVE_WS_URL });
    const r = await measure({ name: '1 node', nodes: n, stationPort: n[0]!.port, extra: [] });
    await stopProcess(n[0]!.child);
    return r;
  };
  const withRedis = async (): Promise<Result> => {
    const n = await startNodes(1, { STEVE_WS_URL, REDIS_URL: `redis://127.0.0.1:${redisPort}`, CLUSTER_NODE_TTL_MS: '1500' });
    const r = await measure({ name: '1 node + Redis', nodes: n, stationPort: n[0]!.port, extra: [{ name: 'redis', pid: redis.pid as number }], redisPort });
    await stopProcess(n[0]!.child);
    execFileSync('redis-cli', ['-p', String(redisPort), 'FLUSHALL']);
    return r;
  };
  const perCall: number[] = [];
  const perEvent: number[] = [];
  const us = (x: number): string => (x * 1e6).toFixed(1);
  console.log(`\nthe machinery alone: stations=${stations} (1 Heartbeat/s each), push: ${pushStations} stations × 1 status/s to ${clients} clients, ${seconds} s per phase, ${rounds} rounds`);
  for (let k = 0; k < rounds; k++) {
    let a: Result;
    let b: Result;
    if (k % 2 === 0) {
      a = await plain();
      b = await withRedis();
    } else {
      b = await withRedis();
      a = await plain();
    }
    perCall.push(b.relayCpuPerCall / a.relayCpuPerCall);
    perEvent.push(b.pushCpuPerEvent / a.pushCpuPerEvent);
    console.log(`round ${k + 1} (${k % 2 === 0 ? 'plain first' : 'Redis first'}): CPU per relayed call ${us(b.relayCpuPerCall)} against ${us(a.relayCpuPerCall)} µs = ${perCall[k]!.toFixed(2)}×; per pushed event ${us(b.pushCpuPerEvent)} against ${us(a.pushCpuPerEvent)} µs = ${perEvent[k]!.toFixed(2)}× (Redis's own CPU: +${us(b.extraRelay[0]!)} and +${us(b.extraPush[0]!)} µs)`);
  }
  const median = (xs: number[]): number => {
    const v = [...xs].sort((x, y) => x - y);
    return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  console.log(`1 node with Redis / 1 node without, median of ${rounds} rounds: ${median(perCall).toFixed(2)}× per relayed call, ${median(perEvent).toFixed(2)}× per pushed event`);
}

/** The single node, the machinery (--machinery), three plain nodes (--control) and the cluster, once each. */
async function fullRun(STEVE_WS_URL: string): Promise<void> {
    const single = await startNodes(1, { STEVE_WS_URL });
    const one: Setup = { name: '1 node', nodes: single, stationPort: single[0]!.port, extra: [] };
    const r1 = await measure(one);
    await stopProcess(single[0]!.child); // waited for: a profiled node writes its profile on exit

    let rc: Result | undefined;
    if (control) {
      const solo = await startNodes(3, { STEVE_WS_URL });
      const lb = await balancer(solo);
      rc = await measure({ name: '3 nodes, no Redis', nodes: solo, stationPort: lb.port, extra: [{ name: 'haproxy', pid: lb.pid }] });
      await Promise.all(solo.map((n) => stopProcess(n.child)));
      lb.child.kill('SIGKILL');
    }

    const redisPort = await freePort();
    const redis = spawnTracked('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await waitPort(redisPort);
    let rm: Result | undefined;
    if (machinery) {
      const lone = await startNodes(1, { STEVE_WS_URL, REDIS_URL: `redis://127.0.0.1:${redisPort}`, CLUSTER_NODE_TTL_MS: '1500' });
      rm = await measure({ name: '1 node + Redis', nodes: lone, stationPort: lone[0]!.port, extra: [{ name: 'redis', pid: redis.pid as number }], redisPort });
      await stopProcess(lone[0]!.child);
      execFileSync('redis-cli', ['-p', String(redisPort), 'FLUSHALL']); // the three nodes start on an empty Redis
    }
    const three = await startNodes(3, { STEVE_WS_URL, REDIS_URL: `redis://127.0.0.1:${redisPort}`, CLUSTER_NODE_TTL_MS: '1500' });
    const lb = await balancer(three);
    const cluster: Setup = { name: '3 nodes', nodes: three, stationPort: lb.port, extra: [{ name: 'redis', pid: redis.pid as number }, { name: 'haproxy', pid: lb.pid }], redisPort };
    const r3 = await measure(cluster);
    const fo = withFailover ? await failover(cluster) : undefined;
    await Promise.all(three.map((n) => stopProcess(n.child)));

    const us = (s: number): string => (s * 1e6).toFixed(1).padStart(7);
    const ms = (x: number): string => x.toFixed(2).padStart(7);
    console.log(`\nstations=${stations} (1 Heartbeat/s each), push: ${pushStations} stations × 1 status/s to ${clients} clients subscribed to all, ${seconds} s per phase`);
    console.log('                      relay: calls  CPU µs/call  p50 ms  p99 ms | push: events  CPU µs/event  p50 ms  p99 ms');
    const rows = [['1 node (no Redis)', r1], ...(rm ? [['1 node + Redis', rm] as const] : []), ...(rc ? [['3 nodes, no Redis', rc] as const] : []), ['3 nodes + Redis', r3]] as const;
    for (const [name, r] of rows) {
      console.log(`${name.padEnd(22)} ${String(r.relayCalls).padStart(11)} ${us(r.relayCpuPerCall)}     ${ms(r.relayP50)} ${ms(r.relayP99)} | ${String(r.pushed).padStart(12)} ${us(r.pushCpuPerEvent)}       ${ms(r.pushP50)} ${ms(r.pushP99)}`);
    }
    for (const [name, r] of rows) {
      console.log(`${name.padEnd(22)} idle CPU ${(r.idlePerS * 100).toFixed(1)} % of a core; above idle: ${us(r.relayMarginal)} µs/call, ${us(r.pushMarginal)} µs/pushed event`);
    }
    for (const [name, r] of rows) {
      console.log(`${name.padEnd(22)} main threads alone: ${us(r.relayMainPerCall)} µs/call, ${us(r.pushMainPerEvent)} µs/pushed event (the rest: V8 compiler and GC helpers, libuv pool); main threads woken ${r.relaySleepsPerCall.toFixed(2)} times per call, ${r.pushSleepsPerEvent.toFixed(2)} per pushed event`);
    }
    console.log(`  Redis   CPU µs: ${us(r3.extraRelay[0]!)} per call, ${us(r3.extraPush[0]!)} per pushed event`);
    console.log(`  HAProxy CPU µs: ${us(r3.extraRelay[1]!)} per call, ${us(r3.extraPush[1]!)} per pushed event`);
    console.log(`  Redis commands per relayed call: ${r3.redisRelay}; per status event (before fan-out): ${r3.redisPush}`);
    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    console.log(`cluster / one node, gateway CPU per relayed call: ${ratio(r3.relayCpuPerCall, r1.relayCpuPerCall)}×, with Redis: ${ratio(r3.relayCpuPerCall + r3.extraRelay[0]!, r1.relayCpuPerCall)}×`);
    console.log(`cluster / one node, gateway CPU per pushed event: ${ratio(r3.pushCpuPerEvent, r1.pushCpuPerEvent)}×, with Redis: ${ratio(r3.pushCpuPerEvent + r3.extraPush[0]!, r1.pushCpuPerEvent)}×`);
    console.log(`cluster / one node, above idle: ${ratio(r3.relayMarginal, r1.relayMarginal)}× per relayed call, ${ratio(r3.pushMarginal, r1.pushMarginal)}× per pushed event`);
    // Read as cost = a + b·N for N nodes (a: done once, on the node holding the station; b: done on every node): our
    // fit from the two setups above idle, the figure behind "nodes per 10,000 stations" in BENCHMARKS.md.
    const fit = (one: number, three: number): string => {
      const b = (three - one) / 2;
      return `once ${us(one - b)} µs, on every node ${us(b)} µs`;
    };
    if (rm) {
      // The machinery's own cost: sequencing, claims, the stream and heartbeats, with the process count unchanged.
      console.log(`1 node with Redis / 1 node without: ${ratio(rm.relayCpuPerCall, r1.relayCpuPerCall)}× per relayed call, ${ratio(rm.pushCpuPerEvent, r1.pushCpuPerEvent)}× per pushed event (with Redis's own CPU: ${ratio(rm.relayCpuPerCall + rm.extraRelay[0]!, r1.relayCpuPerCall)}×, ${ratio(rm.pushCpuPerEvent + rm.extraPush[0]!, r1.pushCpuPerEvent)}×)`);
    }
    if (rc) {
      console.log(`3 nodes without Redis / one node: ${ratio(rc.relayCpuPerCall, r1.relayCpuPerCall)}× per relayed call, ${ratio(rc.pushCpuPerEvent, r1.pushCpuPerEvent)}× per pushed event (above idle ${ratio(rc.relayMarginal, r1.relayMarginal)}×, ${ratio(rc.pushMarginal, r1.pushMarginal)}×)`);
      console.log(`cluster / 3 nodes without Redis: ${ratio(r3.relayCpuPerCall, rc.relayCpuPerCall)}× per relayed call, ${ratio(r3.pushCpuPerEvent, rc.pushCpuPerEvent)}× per pushed event (above idle ${ratio(r3.relayMarginal, rc.relayMarginal)}×, ${ratio(r3.pushMarginal, rc.pushMarginal)}×)`);
    }
    console.log(`fit a + b·N above idle, per relayed call: ${fit(r1.relayMarginal, r3.relayMarginal)}; per pushed event: ${fit(r1.pushMarginal, r3.pushMarginal)}`);
    console.log(`CLUSTER_BATCH_MS=${process.env.CLUSTER_BATCH_MS ?? '(default)'}`);
    if (fo) console.log(`kill -9 of a node: its ${fo.orphans} stations answered again through HAProxy after ${fo.ms.toFixed(0)} ms`);
}

try {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const steve = await startProcess('bench/relay/steve-proc.ts', {}, /steve-port (\d+)/);
  procs.push(steve.child);
  const STEVE_WS_URL = `ws://127.0.0.1:${steve.port}/steve/websocket/CentralSystemService`;

  if (machineryRounds > 0) await machineryOnly(STEVE_WS_URL, machineryRounds);
  else await fullRun(STEVE_WS_URL);
} finally {
  for (const p of procs) p.kill('SIGKILL');
}
