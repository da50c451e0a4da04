// Test helpers for the event model: a model on a real Bus in a fresh temp dir, and log entries built by the
// message log's own code from frame observations shaped like the relay's.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Bus } from '../../src/events/bus.js';
import type { EventInput, GatewayEvent } from '../../src/events/catalogue.js';
import { createEventModel, type EventModel } from '../../src/events/index.js';
import type { FrameObservation, LogEntry, Origin } from '../../src/events/observations.js';
import { toLogEntry } from '../../src/log/entry.js';

export const silent = pino({ level: 'silent' });

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'cb-events-'));
}

export interface Harness {
  readonly bus: Bus;
  readonly model: EventModel;
  readonly events: GatewayEvent[];
  readonly dataDir: string;
}

export async function startModel(opts: { dataDir?: string; binlogConfigured?: boolean; historyPerStation?: number; bus?: Bus } = {}): Promise<Harness> {
  const bus = opts.bus ?? new Bus();
  const dataDir = opts.dataDir ?? tempDir();
  const model = createEventModel({
    bus, dataDir, logger: silent, binlogConfigured: opts.binlogConfigured ?? false,
    ...(opts.historyPerStation !== undefined ? { historyPerStation: opts.historyPerStation } : {}),
  });
  const events: GatewayEvent[] = [];
  bus.on('event', (e) => events.push(e));
  await model.start();
  return { bus, model, events, dataDir };
}

let logId = 1000;
let atUs = Date.parse('2026-03-01T10:00:00Z') * 1000;

/** Station → gateway CALL, as the relay observes it. */
export function stationCall(chargeBoxId: string, messageId: string, action: string, payload: unknown): LogEntry {
  return entry({ chargeBoxId, leg: 'station', direction: 'in', origin: 'station', raw: JSON.stringify([2, messageId, action, payload]), messageType: 'CALL', action, messageId });
}

/** The central system's answer to a station CALL, as the relay observes it on the upstream leg. */
export function answer(chargeBoxId: string, messageId: string, action: string, payload: unknown, origin: Origin = 'steve'): LogEntry {
  return entry({ chargeBoxId, leg: 'upstream', direction: 'in', origin, raw: JSON.stringify([3, messageId, payload]), messageType: 'CALLRESULT', action, messageId });
}

export function callError(chargeBoxId: string, messageId: string, action: string, code: string, description: string): LogEntry {
  return entry({ chargeBoxId, leg: 'upstream', direction: 'in', origin: 'steve', raw: JSON.stringify([4, messageId, code, description, {}]), messageType: 'CALLERROR', action, messageId });
}

function entry(o: Pick<FrameObservation, 'chargeBoxId' | 'leg' | 'direction' | 'origin' | 'raw' | 'messageType' | 'action' | 'messageId'>): LogEntry {
  atUs += 1000;
  const obs: FrameObservation = { atUs, linkKind: 'ws', disposition: 'forwarded', ...o };
  return toLogEntry(obs, ++logId);
}

/** An EventInput as a binlog reader would hand it over. */
export function steveInput(over: { readonly id: string; readonly type: EventInput['type']; readonly data: unknown; readonly [k: string]: unknown }): EventInput {
  const now = new Date().toISOString();
  return { chargeBoxId: 'CP1', timestamp: now, receivedAt: now, source: 'steve', ...over } as EventInput;
}

export const types = (events: readonly GatewayEvent[]): string[] => events.map((e) => e.type);
