// Well-behaved stations, in a process of their own so that the fuzzer's busy event loop never lands in their
// round trips. Each sends Heartbeat and MeterValues at a steady rate, one call at a time, and times the answers
// per phase (baseline: no fuzz load; fuzz: while hostile stations run). Driven over IPC by steady-client.ts.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { LoopDelayMeter, type LoopDelay } from './loop-delay.js';

export type Phase = 'baseline' | 'fuzz' | 'drain';

export interface PhaseStats {
  rtts: number[];
  answered: number;
  timeouts: number;
  wrong: string[];
  /** This process's own event-loop delay in the phase. */
  loop?: LoopDelay;
}

export type SteadyRequest =
  | { readonly kind: 'start'; readonly url: string; readonly stations: number; readonly intervalMs: number; readonly callTimeoutMs: number }
  | { readonly kind: 'phase'; readonly phase: Phase }
  | { readonly kind: 'stop' };

export type SteadyReply =
  | { readonly kind: 'started' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'report'; readonly phases: Record<'baseline' | 'fuzz', PhaseStats>; readonly closes: string[] };

const send = (m: SteadyReply): void => void process.send?.(m);

let phase: Phase = 'baseline';
const loopDelay = new LoopDelayMeter();
let stopping = false;
const stats: Record<'baseline' | 'fuzz', PhaseStats> = {
  baseline: { rtts: [], answered: 0, timeouts: 0, wrong: [] },
  fuzz: { rtts: [], answered: 0, timeouts: 0, wrong: [] },
};
const closes: string[] = [];
const sockets: WebSocket[] = [];
const loops: Array<Promise<void>> = [];

const METER = { connectorId: 1, meterValue: [{ timestamp: '', sampledValue: [{ value: '1234', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] };

function connect(url: string, id: string): Promise<{ ws: WebSocket; call: (action: string, payload: object, timeoutMs: number) => Promise<unknown[] | undefined> }> {
  const ws = new WebSocket(`${url}/${id}`, ['ocpp1.6'], { perMessageDeflate: false });
  sockets.push(ws);
  const waiting = new Map<string, (frame: unknown[]) => void>();
  let seq = 0;
  ws.on('message', (data: Buffer) => {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    if (!Array.isArray(frame) || typeof frame[1] !== 'string') return;
    if (frame[0] === 2) {
      // The central system's own calls (SteVe's GetConfiguration after connect): answered at once.
      ws.send(JSON.stringify([3, frame[1], frame[2] === 'GetConfiguration' ? { configurationKey: [] } : {}]));
      return;
    }
    const w = waiting.get(frame[1]);
    if (w) {
      waiting.delete(frame[1]);
      w(frame);
    }
  });
  ws.on('close', (code, reason) => {
    if (!stopping) closes.push(`${id} closed with ${code} "${reason.toString().slice(0, 60)}"`);
    for (const w of waiting.values()) w(['closed']);
    waiting.clear();
  });
  ws.on('error', () => undefined);
  const call = (action: string, payload: object, timeoutMs: number): Promise<unknown[] | undefined> =>
    new Promise((resolve) => {
      const mid = `s${++seq}`;
      const timer = setTimeout(() => {
        waiting.delete(mid);
        resolve(undefined);
      }, timeoutMs);
      waiting.set(mid, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify([2, mid, action, payload]));
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, call }));
    ws.once('error', reject);
  });
}

async function runStation(url: string, index: number, intervalMs: number, callTimeoutMs: number): Promise<void> {
  const id = `STEADY-${index}`;
  const { ws, call } = await connect(url, id);
  const boot = await call('BootNotification', { chargePointVendor: 'Fuzz', chargePointModel: 'Steady' }, callTimeoutMs);
  if (boot?.[0] !== 3) throw new Error(`${id}: BootNotification not answered with a CALLRESULT`);
  loops.push(
    (async () => {
      let next = performance.now() + (intervalMs * index) / 8;
      for (let k = 0; !stopping && ws.readyState === WebSocket.OPEN; k++) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += intervalMs;
        if (stopping) break;
        const at = phase === 'drain' ? undefined : stats[phase];
        const action = k % 2 === 0 ? 'Heartbeat' : 'MeterValues';
        const payload = action === 'Heartbeat' ? {} : { ...METER, meterValue: [{ ...METER.meterValue[0], timestamp: new Date().toISOString() }] };
        const t0 = performance.now();
        const answer = await call(action, payload, callTimeoutMs);
        if (!at) continue;
        if (answer === undefined) at.timeouts++;
        else if (answer[0] === 'closed') break; // reported as a close
        else if (answer[0] === 3) {
          at.answered++;
          at.rtts.push(performance.now() - t0);
        } else if (at.wrong.length < 5) at.wrong.push(`${id} ${action}: ${JSON.stringify(answer).slice(0, 120)}`);
      }
    })(),
  );
}

process.on('disconnect', () => process.exit(0)); // the fuzzer is gone: so are we
process.on('message', (m: SteadyRequest) => {
  if (m.kind === 'start') {
    let started = 0;
    for (let i = 0; i < m.stations; i++) {
      runStation(m.url, i + 1, m.intervalMs, m.callTimeoutMs).then(
        () => {
          if (++started === m.stations) send({ kind: 'started' });
        },
        (err: unknown) => send({ kind: 'failed', message: (err as Error).message }),
      );
    }
  } else if (m.kind === 'phase') {
    const loop = loopDelay.take();
    if (phase !== 'drain') stats[phase].loop = loop;
    phase = m.phase;
  } else if (m.kind === 'stop') {
    stopping = true;
    if (phase !== 'drain') stats[phase].loop = loopDelay.take();
    void Promise.allSettled(loops).then(() => {
      for (const ws of sockets) ws.terminate();
      // Disconnect once the report is written: closing the channel with it still queued drops it (the report of a
      // 120 s run is a few hundred KB, more than one write).
      process.send?.({ kind: 'report', phases: stats, closes } satisfies SteadyReply, () => process.disconnect?.());
    });
  }
});
