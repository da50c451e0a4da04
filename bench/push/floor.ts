// Fan-out of one event to N clients, the gateway against its floor in the same run: the real push server (fed by
// the real event model, every client watching one station) and bare `ws` writing the same bytes (the gateway's
// own engine.io packets: each event, and the station summary as often as the gateway sends it) to the same number
// of loopback clients; a second floor writes the event packets alone. Each server runs in a process of its own
// (bench/push/fanout-sides.ts), so each one's CPU is only its side's work; rounds rotate the order of the sides,
// and the ratio of the medians is printed. Clients run in four child processes, two per server.
//   node --import tsx bench/push/floor.ts [--clients 1000] [--events 50] [--gap 100] [--rounds 5]
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { arg, ask, median, percentile, wall } from '../lib/proc.js';
import type { Receipt } from './clients.js';
import { STATION, type RoundReport } from './fanout-sides.js';

if (process.argv.includes('--as-clients')) {
  // Child: bare `ws` clients; each receipt is (send time in the frame, receipt time), like clients.ts's.
  const receipts: Receipt[] = [];
  const sockets: WebSocket[] = [];
  const connect = (url: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      sockets.push(ws);
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.on('message', (d) => {
        const now = wall();
        // Parsed as the Socket.IO clients parse theirs: the same work on the receiving side.
        const [name, ev] = JSON.parse(d.toString().slice(2)) as [string, { data: { info: string } }];
        if (name === 'event') receipts.push([ev.data.info, now]);
      });
    });
  process.on('message', (m: { cmd: 'start'; url: string; count: number } | { cmd: 'report' } | { cmd: 'close' }) => {
    if (m.cmd === 'report') process.send?.({ kind: 'report', receipts: receipts.splice(0) });
    else if (m.cmd === 'close') {
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    } else {
      void (async () => {
        // A hundred handshakes at a time: a thousand at once overflow the listen backlog.
        for (let i = 0; i < m.count; i += 100) await Promise.all(Array.from({ length: Math.min(100, m.count - i) }, () => connect(m.url)));
        process.send?.({ kind: 'ready', connected: m.count, failed: 0 });
      })().catch((err: unknown) => {
        console.error('floor bench client:', err);
        process.exit(1);
      });
    }
  });
} else {
  const clients = arg('clients', 1000);
  const events = arg('events', 50);
  const gapMs = arg('gap', 100);
  const rounds = arg('rounds', 5);
  const here = import.meta.dirname;
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to the two server processes only.
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = (file: string, args: string[], profiled = false): ChildProcess =>
    fork(path.join(here, file), args, { execArgv: [...(profiled ? extra : []), '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const started = (c: ChildProcess): Promise<Record<string, string>> =>
    new Promise((resolve, reject) => {
      c.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
      c.once('message', (m) => resolve(m as Record<string, string>));
    });

  const floor = child('fanout-sides.ts', ['--floor'], true);
  const gateway = child('fanout-sides.ts', ['--gateway'], true);
  const [f, g] = await Promise.all([started(floor), started(gateway)]);
  const template = g.packet!;
  const halves = [Math.ceil(clients / 2), Math.floor(clients / 2)];
  const floorClients = halves.map(() => child('floor.ts', ['--as-clients']));
  const gatewayClients = halves.map(() => child('clients.ts', []));
  const ready = await Promise.all([
    ...floorClients.map((c, i) => ask<{ connected: number; failed: number }>(c, { cmd: 'start', url: f.url, count: halves[i] }, 'ready')),
    ...gatewayClients.map((c, i) => ask<{ connected: number; failed: number }>(c, { cmd: 'start', url: g.url, token: g.token, stations: Array<string>(halves[i]!).fill(STATION) }, 'ready')),
  ]);
  const failed = ready.reduce((a, r) => a + r.failed, 0);
  await new Promise((r) => setTimeout(r, 1000));

  console.log(
    `fan-out, gateway vs bare ws floor: ${clients} clients per side (${failed} failed), ${events} events ${gapMs} ms apart per round, ` +
      `${rounds} rounds alternating, ${template.length + 1}-byte event frames (engine.io packet), ${os.cpus().length} cores, node ${process.version}\n` +
      `  floor = bare ws writing the gateway's packets: each event, and its summary as the gateway throttles them (${g.summaryIntervalMs} ms window);\n` +
      `  floor (events only) = bare ws writing the event packets alone`,
  );
  type Name = 'floor' | 'floor (events only)' | 'gateway';
  const proc: Record<Name, ChildProcess> = { floor, 'floor (events only)': floor, gateway };
  const cmd: Record<Name, object> = {
    floor: { cmd: 'round', events, gapMs, template, summary: g.summary, summaryIntervalMs: Number(g.summaryIntervalMs) },
    'floor (events only)': { cmd: 'round', events, gapMs, template },
    gateway: { cmd: 'round', events, gapMs },
  };
  const names: Name[] = ['floor', 'gateway', 'floor (events only)'];
  const cpu = new Map<Name, number[]>(names.map((n) => [n, []]));
  const loops = new Map<Name, number[]>(names.map((n) => [n, []]));
  const summaries = new Map<Name, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    // Each side goes first, second and third in turn.
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    const line: string[] = [];
    for (const name of order) {
      const rep = await ask<RoundReport>(proc[name], cmd[name], 'round');
      cpu.get(name)!.push(rep.cpuMs / events);
      loops.get(name)!.push(...rep.loopMs);
      summaries.get(name)!.push(rep.summaries / events);
      line.push(`${name} ${(rep.cpuMs / events).toFixed(2)} ms`);
    }
    const last = (n: Name): number => cpu.get(n)!.at(-1)!;
    console.log(`  round ${r + 1}: CPU per event ${line.join(', ')}; gateway / floor ${(last('gateway') / last('floor')).toFixed(2)}×`);
  }

  const latencies = async (procs: ChildProcess[]): Promise<number[]> =>
    (await Promise.all(procs.map((c) => ask<{ receipts: Receipt[] }>(c, { cmd: 'report' }, 'report'))))
      .flatMap((r) => r.receipts.map(([info, at]) => at - Number(info)))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
  const received = { floor: await latencies(floorClients), gateway: await latencies(gatewayClients) };
  for (const name of names) {
    const l = [...loops.get(name)!].sort((a, b) => a - b);
    const cs = cpu.get(name)!;
    console.log(
      `  ${name.padEnd(19)} CPU per event: median ${median(cs).toFixed(2)} ms [${cs.map((c) => c.toFixed(2)).join(', ')}]; ` +
        `summaries per event ${median(summaries.get(name)!).toFixed(2)}; write call p50 ${percentile(l, 50).toFixed(2)} ms`,
    );
  }
  for (const [name, all] of Object.entries(received)) {
    const expected = clients * events * rounds * (name === 'floor' ? 2 : 1);
    console.log(`  ${name} clients: event receipts ${all.length}/${expected}, send → receipt p50 ${percentile(all, 50).toFixed(2)} / p99 ${percentile(all, 99).toFixed(2)} ms`);
  }
  const ratio = median(cpu.get('gateway')!) / median(cpu.get('floor')!);
  const perRound = cpu.get('gateway')!.map((c, i) => c / cpu.get('floor')![i]!);
  console.log(`  ratio gateway / floor, CPU per event (medians): ${ratio.toFixed(2)}× (target ≤ 1.2×: ${ratio <= 1.2 ? 'met' : 'not met'}); per round median ${median(perRound).toFixed(2)}×`);
  console.log(`  ratio gateway / floor (events only): ${(median(cpu.get('gateway')!) / median(cpu.get('floor (events only)')!)).toFixed(2)}×`);

  const all = [floor, gateway, ...floorClients, ...gatewayClients];
  await Promise.all(all.map((c) => new Promise((r) => { c.removeAllListeners('exit'); c.once('exit', r); c.send({ cmd: 'close' }); })));
  // stdout is asynchronous when piped: let the figures out before leaving.
  process.stdout.write('', () => process.exit(0));
}
