// The floor under push fan-out on this machine: one small text frame written with bare `ws` (no Socket.IO, no
// event model) to each of N loopback WebSocket clients, timed from the server's send loop to each client's
// receipt. Compare with bench/push/run.ts, which does the same through the real push server.
//   npx tsx bench/push/floor.ts [--clients 1000] [--events 50]
import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { arg, percentile, wall } from '../lib/proc.js';


if (process.argv.includes('--as-clients')) {
  // Child: opens the clients, records (send time → receipt) for every frame, reports on request.
  const latencies: number[] = [];
  const connect = (url: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.on('message', (d) => latencies.push(wall() - Number((JSON.parse(d.toString()) as { sentAt: number }).sentAt)));
    });
  process.on('message', (m: { url: string; count: number } | 'report') => {
    if (m === 'report') {
      process.send?.(latencies, () => process.exit(0)); // exit once the report is out, not before
      return;
    }
    void (async () => {
      // A hundred handshakes at a time: a thousand at once overflow the listen backlog.
      for (let i = 0; i < m.count; i += 100) await Promise.all(Array.from({ length: Math.min(100, m.count - i) }, () => connect(m.url)));
      process.send?.('ready');
    })().catch((err: unknown) => {
      console.error('floor bench client:', err);
      process.exit(1);
    });
  });
  process.send?.('hello'); // listening now: a message sent before this could be lost

} else {
  const clients = arg('clients', 1000);
  const events = arg('events', 50);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const halves = [Math.ceil(clients / 2), Math.floor(clients / 2)];
  const children = halves.map(() => fork(import.meta.filename, ['--as-clients'], { execArgv: ['--import', 'tsx'] }));
  const next = (c: ChildProcess): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const exit = (code: number | null): void => reject(new Error(`client process exited (${code})`));
      c.once('exit', exit);
      c.once('message', (m) => {
        c.off('exit', exit);
        resolve(m);
      });
    });
  await Promise.all(children.map(async (c, i) => {
    await next(c);
    const ready = next(c);
    c.send({ url, count: halves[i] });
    await ready;
  }));
  const loops: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let e = 0; e < events; e++) {
    // A Socket.IO-sized event frame (about 200 bytes), encoded once and written to every socket.
    const frame = JSON.stringify({ sentAt: wall(), type: 'status', chargeBoxId: 'BENCH1', data: { status: 'Charging', errorCode: 'NoError' }, pad: 'x'.repeat(80) });
    const t = performance.now();
    for (const ws of wss.clients) ws.send(frame);
    loops.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 100));
  }
  const cpu = process.cpuUsage(cpu0);
  const all = (await Promise.all(children.map((c) => new Promise<number[]>((r) => { c.once('message', (m) => r(m as number[])); c.send('report'); })))).flat().sort((a, b) => a - b);
  loops.sort((a, b) => a - b);
  console.log(`bare ws fan-out: ${clients} clients, ${events} frames 100 ms apart, ${all.length}/${clients * events} receipts`);
  console.log(`  send loop over all sockets: p50 ${percentile(loops, 50).toFixed(2)} ms, p99 ${percentile(loops, 99).toFixed(2)} ms (${(percentile(loops, 50) * 1000 / clients).toFixed(1)} µs per socket)`);
  console.log(`  server CPU per frame (all ${clients} writes): ${((cpu.user + cpu.system) / 1000 / events).toFixed(2)} ms`);
  console.log(`  send → client receipt: p50 ${percentile(all, 50).toFixed(2)} ms, p99 ${percentile(all, 99).toFixed(2)} ms, max ${(all.at(-1) ?? NaN).toFixed(2)} ms`);
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  // stdout is asynchronous when piped: let the figures out before leaving.
  process.stdout.write('', () => process.exit(0));
}
