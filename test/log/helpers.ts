// Shared pieces for the message-log tests: observations as the relay emits them and a log in a fresh temp dir.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Bus } from '../../src/events/bus.js';
import type { FrameObservation, LogEntry } from '../../src/events/observations.js';
import { createMessageLog, type MessageLog, type MessageLogDeps } from '../../src/log/index.js';

export const tempDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'cb-log-'));

export function obs(over: Partial<FrameObservation> = {}): FrameObservation {
  return {
    atUs: Date.now() * 1000,
    chargeBoxId: 'CP1',
    linkKind: 'ws',
    leg: 'station',
    direction: 'in',
    origin: 'station',
    disposition: 'forwarded',
    raw: JSON.stringify([2, 'h1', 'Heartbeat', {}]),
    messageType: 'CALL',
    action: 'Heartbeat',
    messageId: 'h1',
    ...over,
  };
}

/** A frame the relay refused before it could read a message type, action or id. */
export function refusedObs(raw: string, over: Partial<FrameObservation> = {}): FrameObservation {
  const { messageType: _t, action: _a, messageId: _m, ...rest } = obs(over);
  return { ...rest, raw, disposition: 'refused', problem: 'not JSON' };
}

export interface TestLog {
  readonly log: MessageLog;
  readonly bus: Bus;
  readonly registry: Registry;
  readonly dataDir: string;
  readonly logged: LogEntry[];
  /** Emits observations and resolves once the log has numbered all of them. */
  emit(...observations: FrameObservation[]): Promise<LogEntry[]>;
}

export async function startLog(over: Partial<Omit<MessageLogDeps, 'bus' | 'registry' | 'logger'>> = {}): Promise<TestLog> {
  const bus = new Bus();
  const registry = new Registry();
  const dataDir = over.dataDir ?? tempDir();
  const log = createMessageLog({ retentionDays: 14, queueLimit: 100_000, ...over, dataDir, bus, registry, logger: pino({ level: 'silent' }) });
  await log.start();
  const logged: LogEntry[] = [];
  bus.on('logged', (e) => logged.push(e));
  return {
    log,
    bus,
    registry,
    dataDir,
    logged,
    async emit(...observations) {
      const before = logged.length;
      for (const o of observations) bus.emit('frame', o);
      const deadline = Date.now() + 5000;
      while (logged.length - before < observations.length && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      return logged.slice(before);
    },
  };
}

/** Every entry of a query, walking all pages. */
export async function allPages(log: MessageLog, q: Parameters<MessageLog['query']>[0] = {}): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await log.query({ ...q, ...(cursor ? { cursor } : {}) });
    out.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Polls until `pred` holds (the writer works asynchronously); throws after `ms`. */
export async function until(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('until: condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
