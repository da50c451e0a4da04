// The two servers bench/push/floor.ts compares, each in a process of its own so that each process's CPU is
// its own side's work only. Both answer the same IPC commands:
//   { cmd: 'round', events, gapMs }  → writes `events` events `gapMs` apart, then { kind: 'round', cpuMs, loopMs[] }
//   { cmd: 'close' }                 → exits
// Roles (argv[2]):
//   --floor      bare `ws` server; the frame text comes with the round (the gateway's own bytes, see below)
//   --gateway    the real push server fed by the real event model (as bench/push/run.ts), clients watching one
//                station; it first sends { kind: 'ready', url, token, packet }: `packet` is the engine.io text
//                of one of its events, which the floor then writes with its own send time in it
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { Bus } from '../../src/events/bus.js';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { createEventModel } from '../../src/events/index.js';
import { wall } from '../lib/proc.js';
import { startBenchPush } from './server.js';

export const STATION = 'BENCH1';

export interface RoundCmd {
  cmd: 'round';
  events: number;
  gapMs: number;
  /** Floor only: the gateway's event packet with `{{info}}` where the send time goes. */
  template?: string;
  /**
   * Floor only: the gateway's summary packet. Given, the floor writes it as the gateway does (push/summaries.ts):
   * with the event when the station's window is closed (corked with it: one write), else once at the window's end.
   */
  summary?: string;
  summaryIntervalMs?: number;
}
export interface RoundReport {
  kind: 'round';
  /** User + system CPU of this process from the first write to `settle` after the last. */
  cpuMs: number;
  /** Synchronous time of each event's write call. */
  loopMs: number[];
  /** Summary packets each socket got in the round. */
  summaries: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One round: `send(info)` per event, CPU measured over the sends and the time the writes take to finish. */
async function round(cmd: RoundCmd, send: (info: string) => void, summaries: () => number): Promise<RoundReport> {
  const summaries0 = summaries();
  const loopMs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < cmd.events; i++) {
    const at = performance.now();
    send(String(wall()));
    loopMs.push(performance.now() - at);
    await sleep(cmd.gapMs);
  }
  // The last event's slices and write callbacks.
  await sleep(Math.max(300, cmd.gapMs * 3));
  const cpu = process.cpuUsage(cpu0);
  return { kind: 'round', cpuMs: (cpu.user + cpu.system) / 1000, loopMs, summaries: summaries() - summaries0 };
}

function serve(handle: (cmd: RoundCmd) => Promise<RoundReport>, close: () => Promise<void>): void {
  process.on('message', (m: RoundCmd | { cmd: 'close' }) => {
    if (m.cmd === 'round') void handle(m).then((r) => process.send?.(r));
    else void close().then(() => process.exit(0));
  });
}

const role = process.argv[2];
if (role === '--floor') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  // The summary window, as push/summaries.ts keeps it for one station.
  let window: NodeJS.Timeout | undefined;
  let trailing = false;
  let summariesSent = 0;
  const openWindow = (cmd: RoundCmd): void => {
    window = setTimeout(() => {
      window = undefined;
      if (!trailing) return;
      trailing = false;
      for (const ws of wss.clients) ws.send(cmd.summary!);
      summariesSent++;
      openWindow(cmd);
    }, cmd.summaryIntervalMs);
  };
  serve(
    (cmd) =>
      round(cmd, (info) => {
        // Encoded once, written to every socket: what the gateway would do with nothing of its own around it.
        const frame = cmd.template!.replace('{{info}}', info);
        if (cmd.summary === undefined) {
          for (const ws of wss.clients) ws.send(frame);
        } else if (window !== undefined) {
          trailing = true;
          for (const ws of wss.clients) ws.send(frame);
        } else {
          for (const ws of wss.clients) {
            const raw = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
            raw.cork();
            ws.send(frame);
            ws.send(cmd.summary);
            raw.uncork();
          }
          summariesSent++;
          openWindow(cmd);
        }
      }, () => summariesSent),
    async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  );
  process.send?.({ kind: 'ready', url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` });
} else if (role === '--gateway') {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-fanout-'));
  const logger = pino({ level: 'silent' });
  const bus = new Bus();
  const model = createEventModel({ bus, dataDir, logger, binlogConfigured: false });
  await model.start();
  const { push, url, token, summaryIntervalMs, stop } = await startBenchPush({ bus, model, dataDir, logger });
  let seq = 0;
  const emit = (info: string): void => {
    const now = new Date().toISOString();
    bus.emit('eventInput', { id: `bench-${++seq}`, type: 'status', chargeBoxId: STATION, connectorId: 1, timestamp: now, receivedAt: now, source: 'station', data: { status: seq % 2 ? 'Charging' : 'SuspendedEV', errorCode: 'NoError', synthetic: false, info } });
  };
  // The station exists before clients subscribe; its event is the template of the floor's frames.
  let sample: GatewayEvent | undefined;
  const off = bus.on('event', (ev) => (sample ??= ev));
  emit('{{info}}');
  off();
  // Socket.IO's wire form of emit('event', ev): engine "message" (4) + Socket.IO EVENT (2) + JSON.
  const packet = `42${JSON.stringify(['event', sample])}`;
  const summary = `42${JSON.stringify(['summary', { ...model.state.summary(STATION), seq: sample?.seq }])}`;
  serve(
    (cmd) => round(cmd, emit, () => push.stats().pushed.summaries / Math.max(1, push.stats().clients.total)),
    async () => {
      const s = push.stats();
      console.log(`  gateway counters: pushed ${s.pushed.events} events, lost to gaps ${s.dropped.eventsDropped}, slow disconnects ${s.disconnects.slowConsumer}`);
      await stop();
      await model.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  );
  process.send?.({ kind: 'ready', url, token, packet, summary, summaryIntervalMs });
}
