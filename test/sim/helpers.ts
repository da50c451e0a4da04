// Shared test helpers: a simulator over WebSocket against the SteVe double, with every frame recorded so
// tests can check schema validity and order.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseFrame } from '../../src/ocpp/frames.js';
import { validate } from '../../src/ocpp/validate.js';
import { scaledClock, type Clock } from '../../src/sim/clock.js';
import { createSimulator, type Simulator } from '../../src/sim/index.js';
import { DEFAULT_LIMITS, type SimLimits } from '../../src/sim/station.js';
import type { SimStationSpec } from '../../src/sim/spec.js';
import type { SimTransport } from '../../src/sim/transport.js';
import { wsTransport } from '../../src/sim/ws-transport.js';

export interface Recorded {
  readonly station: string;
  readonly dir: 'out' | 'in' | 'connect';
  readonly text: string;
  /** Virtual time of the event. */
  readonly at: number;
}

/** Wraps a transport and records both directions per station. */
export function recording(inner: SimTransport, log: Recorded[], clock: Clock): SimTransport {
  return {
    kind: inner.kind,
    connect(id, handlers, opts) {
      log.push({ station: id, dir: 'connect', text: '', at: clock.now() });
      const conn = inner.connect(
        id,
        {
          open: () => handlers.open(),
          message: (text) => {
            log.push({ station: id, dir: 'in', text, at: clock.now() });
            handlers.message(text);
          },
          close: (code, reason) => handlers.close(code, reason),
        },
        opts,
      );
      return {
        send(text) {
          const ok = conn.send(text);
          if (ok) log.push({ station: id, dir: 'out', text, at: clock.now() });
          return ok;
        },
        close: (code, reason, abrupt) => conn.close(code, reason, abrupt),
      };
    },
  };
}

/** Every frame a station produced, checked against the OCPP 1.6 schemas; returns the violations. */
export function schemaViolations(log: readonly Recorded[]): string[] {
  const incomingActions = new Map<string, string>();
  const problems: string[] = [];
  for (const r of log) {
    const parsed = parseFrame(r.text);
    if (r.dir === 'connect') continue;
    if (!parsed.ok) {
      if (r.dir === 'out') problems.push(`${r.station}: unparseable ${r.text}`);
      continue;
    }
    const f = parsed.frame;
    if (r.dir === 'in') {
      if (f.type === 2) incomingActions.set(`${r.station}\u0000${f.id}`, f.action);
      continue;
    }
    if (f.type === 2) {
      const v = validate(f.action, 'req', f.payload);
      if (v) problems.push(`${r.station}: ${v.message} in ${r.text}`);
    } else if (f.type === 3) {
      const action = incomingActions.get(`${r.station}\u0000${f.id}`);
      if (!action) problems.push(`${r.station}: CALLRESULT for unknown id ${f.id}`);
      else {
        const v = validate(action, 'conf', f.payload);
        if (v) problems.push(`${r.station}: ${v.message} in ${r.text}`);
      }
    }
  }
  return problems;
}

/** The CALLs a station sent, in order, as [action, payload]. */
export function callsOf(log: readonly Recorded[], station: string): { id: string; action: string; payload: Record<string, unknown> }[] {
  const out: { id: string; action: string; payload: Record<string, unknown> }[] = [];
  for (const r of log) {
    if (r.station !== station || r.dir !== 'out') continue;
    const p = parseFrame(r.text);
    if (p.ok && p.frame.type === 2) out.push({ id: p.frame.id, action: p.frame.action, payload: p.frame.payload as Record<string, unknown> });
  }
  return out;
}

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'sim-test-'));
}

export interface SimHarness {
  readonly sim: Simulator;
  readonly log: Recorded[];
  readonly clock: Clock;
  readonly dataDir: string;
}

export function startSim(opts: {
  target: string;
  speed?: number;
  stations?: SimStationSpec[];
  limits?: Partial<SimLimits>;
  dataDir?: string;
  transport?: SimTransport;
  connectSpreadMs?: number;
}): SimHarness {
  const log: Recorded[] = [];
  const clock = scaledClock(opts.speed ?? 10);
  const dataDir = opts.dataDir ?? tempDir();
  const sim = createSimulator({
    config: {
      stations: opts.stations ?? [],
      limits: { ...DEFAULT_LIMITS, bootDelayMs: 100, ...opts.limits },
      connectSpreadMs: opts.connectSpreadMs ?? 0,
    },
    transport: recording(opts.transport ?? wsTransport(opts.target), log, clock),
    logger: pino({ level: 'silent' }),
    dataDir,
    clock,
  });
  return { sim, log, clock, dataDir };
}

/** Polls `cond` until true (real time). */
export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until the station has sent a CALL matching `pred` (after `from` calls) and returns it with its index. */
export async function waitCall(
  log: readonly Recorded[],
  station: string,
  pred: (c: { action: string; payload: Record<string, unknown> }) => boolean,
  opts: { from?: number; timeoutMs?: number } = {},
): Promise<{ index: number; id: string; action: string; payload: Record<string, unknown> }> {
  let hit: { index: number; id: string; action: string; payload: Record<string, unknown> } | undefined;
  await until(() => {
    const calls = callsOf(log, station);
    for (let i = opts.from ?? 0; i < calls.length; i++) {
      if (pred(calls[i]!)) {
        hit = { index: i, ...calls[i]! };
        return true;
      }
    }
    return false;
  }, opts.timeoutMs ?? 10_000, `a CALL from ${station}`);
  return hit!;
}

export const dataOf = (payload: Record<string, unknown>): Record<string, unknown> => JSON.parse(String(payload.data)) as Record<string, unknown>;
