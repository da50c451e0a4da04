// The binlog in cluster mode, side by side with one node in one run: binlog commit → Socket.IO client latency with
// one gateway (no Redis) and with three nodes on a private Redis (clients spread over the nodes, the binlog read by
// the lease holder and its events reaching the others through the Redis stream), then the failover of the binlog
// lease: kill -9 of the node holding it while rows are written, the time until rows written after the kill reach
// a client through another node, and a check that every row's event reached every surviving client (repeated
// deliveries of one event id are counted and dropped, as a client does; a row under two ids would be a defect).
// A private mariadbd (SteVe 3.13 schema, binlog ROW/FULL/FULL) takes single-row connector_status INSERTs from the
// writer child of bench/push/binlog.ts, which timestamps each commit's OK; gateways run compiled, as `npm start`.
// Usage: npm run bench:cluster-binlog -- [--clients 12] [--rate 20] [--seconds 15] [--failover-seconds 15] [--lease-ms 3000]
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { io as ioClient, type Socket } from 'socket.io-client';
import { SteveWriter } from '../../test/cdc/steve-writes.js';
import { startRedis } from '../../test/cluster/support.js';
import { createSteveDatabase, startMariadb } from '../../test/support/mariadb.js';
import { GATEWAY_NODE_FLAGS } from '../../src/node-flags.js';
import { arg, ask, cpuSeconds, percentile, root, wall } from '../lib/proc.js';

const clients = arg('clients', 12);
const rate = arg('rate', 20);
const seconds = arg('seconds', 15);
const failoverSeconds = arg('failover-seconds', 15);
const leaseMs = arg('lease-ms', 3000);
const STATIONS = 20;
const SECRET = 'bench-cluster-binlog-secret-0123456789-ab';
const token = jwt.sign({ sub: 'bench', role: 'operator' }, SECRET, { algorithm: 'HS256', expiresIn: '2h' });

const procs: ChildProcess[] = [];
const temp: string[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const progress = (msg: string): void => void process.stderr.write(`[bench/cluster-binlog] ${msg}\n`);

interface Node { name: string; port: number; child: ChildProcess }

/** One gateway from dist/ with PORT=0; its port is read from its start-up log line. */
async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-cbinlog-'));
  temp.push(dataDir);
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, 'dist/main.js'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SIM_STATIONS: '0', JWT_SECRET: SECRET, DATA_DIR: dataDir, ...env },
  });
  procs.push(child);
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no port in its log: ${log.slice(-2000)}`)), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /"port":(\d+),"mode"/.exec(log);
      if (!m) return;
      clearTimeout(timer);
      resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}: ${log.slice(-2000)}`)));
  });
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  return { name, port, child };
}

interface Health { binlog?: { state?: string }; cluster?: { binlogLeader?: boolean } }

async function health(n: Node): Promise<Health | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${n.port}/api/health`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1000) });
    return (await res.json()) as Health;
  } catch {
    return undefined;
  }
}

/** The nodes whose binlog reader streams (one node: the reader; cluster: the lease holder). */
async function readers(nodes: readonly Node[]): Promise<Node[]> {
  const hs = await Promise.all(nodes.map(health));
  return nodes.filter((_, i) => hs[i]?.binlog?.state === 'streaming' && (hs[i]?.cluster === undefined || hs[i]?.cluster?.binlogLeader === true));
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + ms; ; await sleep(50)) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** A Socket.IO client subscribed to everything; per row key the event ids and the first receipt time. */
class Client {
  readonly ids = new Map<string, Set<string>>();
  readonly firstAt = new Map<string, number>();
  repeated = 0;
  constructor(readonly node: Node, readonly socket: Socket) {
    socket.on('event', (e: { id: string | number; type: string; data: { info?: unknown } }) => {
      const at = wall();
      if (e.type !== 'status' || typeof e.data.info !== 'string') return;
      const key = e.data.info;
      const ids = this.ids.get(key) ?? new Set<string>();
      if (ids.has(String(e.id))) {
        this.repeated++;
        return;
      }
      ids.add(String(e.id));
      this.ids.set(key, ids);
      if (!this.firstAt.has(key)) this.firstAt.set(key, at);
    });
  }

  static async open(node: Node): Promise<Client> {
    const s = ioClient(`http://127.0.0.1:${node.port}`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token } });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    const c = new Client(node, s);
    await s.timeout(10_000).emitWithAck('subscribe', { all: true });
    return c;
  }
}

type Written = [string, number, number]; // key, INSERT sent, OK received (wall clock)

try {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  const db = await startMariadb();
  temp.push(db.dir);
  const dbUrl = await createSteveDatabase(db, { database: 'stevedb', generation: '3.13' });
  const w = await SteveWriter.open(db, 'stevedb', '3.13');
  const evse: number[] = [];
  for (let i = 0; i < STATIONS; i++) {
    await w.addStation(`BCB${i}`);
    evse.push(await w.tx(() => w.insertIgnoreConnector(`BCB${i}`, 1)));
  }
  await w.close();
  // SteVe's side: the paced autocommit INSERT writer of bench/push/binlog.ts, in its own process.
  const writer = fork(path.join(root, 'bench/push/binlog.ts'), ['--as-writer'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  procs.push(writer);
  let keys = 0;
  const write = (prefix: string, n: number): Promise<{ written: Written[]; seconds: number }> =>
    ask(writer, { cmd: 'write', socket: db.socket, rate, rows: Array.from({ length: n }, (_, i) => ({ key: `${prefix}${++keys}`, evsePk: evse[i % evse.length] })) }, 'written');

  async function openClients(nodes: readonly Node[]): Promise<Client[]> {
    const out: Client[] = [];
    for (let i = 0; i < clients; i++) out.push(await Client.open(nodes[i % nodes.length]!));
    // A few rows every client must see before measuring: subscriptions live, readers warm.
    const warm = await write('W', 5);
    await until('warm-up rows at every client', 30_000, async () => (out.every((c) => warm.written.every(([k]) => c.ids.has(k))) ? true : undefined));
    return out;
  }

  interface Latency { commits: number; receipts: number; expected: number; all: number[]; byNode: Map<string, number[]>; cpuPerCommitMs: number }

  async function latency(nodes: readonly Node[], cs: readonly Client[]): Promise<Latency> {
    const cpu0 = nodes.reduce((s, n) => s + cpuSeconds(n.child.pid!), 0);
    const done = await write('L', Math.round(rate * seconds));
    const last = done.written.at(-1)![0];
    await until('the last row at every client', 15_000, async () => (cs.every((c) => c.firstAt.has(last)) ? true : undefined)).catch(() => undefined);
    await sleep(500);
    const cpu = nodes.reduce((s, n) => s + cpuSeconds(n.child.pid!), 0) - cpu0;
    const all: number[] = [];
    const byNode = new Map<string, number[]>();
    for (const c of cs) {
      const list = byNode.get(c.node.name) ?? [];
      for (const [key, , acked] of done.written) {
        const at = c.firstAt.get(key);
        if (at === undefined) continue;
        all.push(at - acked);
        list.push(at - acked);
      }
      byNode.set(c.node.name, list);
    }
    for (const l of [all, ...byNode.values()]) l.sort((a, b) => a - b);
    return { commits: done.written.length, receipts: all.length, expected: done.written.length * cs.length, all, byNode, cpuPerCommitMs: (cpu * 1000) / done.written.length };
  }

  // ---- one node, no Redis --------------------------------------------------------------------------------------
  progress('1 node: starting');
  const single = await startNode('single', { STEVE_DB_URL: dbUrl, CDC_SERVER_ID: '7200' });
  await until('the single reader streaming', 60_000, async () => (await readers([single]))[0]);
  const cs1 = await openClients([single]);
  progress(`1 node: ${cs1.length} clients subscribed, writing`);
  const r1 = await latency([single], cs1);
  cs1.forEach((c) => c.socket.close());
  single.child.kill('SIGTERM');
  await new Promise((r) => single.child.once('exit', r));

  // ---- three nodes on Redis --------------------------------------------------------------------------------------
  progress('3 nodes: starting');
  const redis = await startRedis();
  const three: Node[] = [];
  for (let i = 0; i < 3; i++) {
    three.push(await startNode(`node-${i}`, {
      STEVE_DB_URL: dbUrl, CDC_SERVER_ID: String(7300 + i), REDIS_URL: redis.url, CLUSTER_NODE_ID: `node-${i}`, CLUSTER_LEASE_MS: String(leaseMs),
    }));
  }
  const leader = await until('one binlog reader in the cluster', 60_000, async () => {
    const l = await readers(three);
    return l.length === 1 ? l[0] : undefined;
  });
  const cs3 = await openClients(three);
  progress(`3 nodes: ${cs3.length} clients subscribed, ${leader.name} reads the binlog, writing`);
  const r3 = await latency(three, cs3);

  // ---- failover: kill -9 of the lease holder while rows are written --------------------------------------------
  progress(`failover: writing ${failoverSeconds} s, kill -9 of ${leader.name} after ${Math.round(failoverSeconds / 4)} s`);
  const survivors = cs3.filter((c) => c.node !== leader);
  const others = three.filter((n) => n !== leader);
  const writing = write('F', Math.round(rate * failoverSeconds));
  await sleep((failoverSeconds / 4) * 1000);
  const killedAt = wall();
  leader.child.kill('SIGKILL');
  const next = await until('a new binlog reader', 30_000, async () => {
    const l = await readers(others);
    return l.length === 1 ? l[0] : undefined;
  });
  const streamingAfter = wall() - killedAt;
  const { written } = await writing;
  const keysF = written.map(([k]) => k);
  await until('every row at every surviving client', 30_000, async () => (survivors.every((c) => keysF.every((k) => c.ids.has(k))) ? true : undefined))
    .catch(() => progress('not every row reached every surviving client within 30 s after the writes'));
  await sleep(1000); // late repeats
  const afterKill = written.filter(([, sent]) => sent >= killedAt);
  const firstAfter = Math.min(...survivors.flatMap((c) => afterKill.flatMap(([k]) => (c.firstAt.has(k) ? [c.firstAt.get(k)! - killedAt] : []))));
  // When every row written in the gap (from the kill until the new reader streamed) had reached every surviving client.
  const gap = afterKill.filter(([, sent]) => sent <= killedAt + streamingAfter);
  const gapDone = Math.max(...survivors.flatMap((c) => gap.map(([k]) => (c.firstAt.get(k) ?? Number.POSITIVE_INFINITY) - killedAt)));
  const lost = survivors.reduce((s, c) => s + keysF.filter((k) => !c.ids.has(k)).length, 0);
  const twoIds = survivors.reduce((s, c) => s + keysF.filter((k) => (c.ids.get(k)?.size ?? 0) > 1).length, 0);
  const repeated = survivors.reduce((s, c) => s + c.repeated, 0);
  // Latency of rows written well after the takeover: back to normal?
  const settled = written.filter(([, sent]) => sent > killedAt + streamingAfter + 2000);
  const settledLat = survivors.flatMap((c) => settled.flatMap(([k, , acked]) => (c.firstAt.has(k) ? [c.firstAt.get(k)! - acked] : []))).sort((a, b) => a - b);

  // ---- report ----------------------------------------------------------------------------------------------------
  const f = (x: number): string => x.toFixed(1).padStart(7);
  console.log(`\nbinlog commit (OK at the writer) → Socket.IO client receipt; ${rate} single-row commits/s over ${STATIONS} stations for ${seconds} s; ${clients} clients subscribed to all, spread over the nodes`);
  console.log('                                 commits  receipts/expected   p50 ms   p99 ms   max ms  gateway CPU ms/commit');
  const line = (name: string, r: Latency): void => console.log(
    `${name.padEnd(32)} ${String(r.commits).padStart(7)} ${`${r.receipts}/${r.expected}`.padStart(18)}  ${f(percentile(r.all, 50))}  ${f(percentile(r.all, 99))}  ${f(r.all.at(-1) ?? NaN)}  ${f(r.cpuPerCommitMs)}`);
  line('1 node (no Redis)', r1);
  line('3 nodes + Redis', r3);
  for (const n of three) {
    const l = r3.byNode.get(n.name) ?? [];
    console.log(`  clients on ${n.name}${n === leader ? ' (reader)' : '         '}        ${String(l.length).padStart(18)}  ${f(percentile(l, 50))}  ${f(percentile(l, 99))}  ${f(l.at(-1) ?? NaN)}`);
  }
  const ratio = (a: number, b: number): string => (a / b).toFixed(2);
  console.log(`cluster / one node: p50 ${ratio(percentile(r3.all, 50), percentile(r1.all, 50))}×, p99 ${ratio(percentile(r3.all, 99), percentile(r1.all, 99))}×, gateway CPU per commit (all nodes) ${ratio(r3.cpuPerCommitMs, r1.cpuPerCommitMs)}×`);
  console.log(`\nbinlog lease failover (CLUSTER_LEASE_MS=${leaseMs}): kill -9 of ${leader.name} while writing ${rate} rows/s; ${survivors.length} clients on the other nodes`);
  console.log(`  ${next.name} reader streaming after ${streamingAfter.toFixed(0)} ms (health polled every 50 ms)`);
  console.log(`  first row written after the kill at a client after ${firstAfter.toFixed(0)} ms; every row written until the new reader streamed (${gap.length}) at every client after ${gapDone.toFixed(0)} ms`);
  console.log(`  rows written well after the takeover (${settled.length}): commit → client p50 ${percentile(settledLat, 50).toFixed(1)} ms, p99 ${percentile(settledLat, 99).toFixed(1)} ms`);
  console.log(`  ${written.length} rows × ${survivors.length} clients: lost ${lost}, one event delivered twice (dropped by id) ${repeated}, rows under two event ids ${twoIds}`);
  cs3.forEach((c) => c.socket.close());
  await redis.stop();
  writer.send({ cmd: 'close' });
  await db.stop();
  if (lost > 0 || twoIds > 0 || r1.receipts < r1.expected || r3.receipts < r3.expected) process.exitCode = 1;
} finally {
  for (const p of procs) p.kill('SIGKILL');
  for (const d of temp) rmSync(d, { recursive: true, force: true });
}
process.exit();
