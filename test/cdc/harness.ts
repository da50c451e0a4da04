// Shared pieces of the binlog reader tests: a reader on a private server, its events and its log lines.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Bus } from '../../src/events/bus.js';
import type { EventInput, EventType } from '../../src/events/catalogue.js';
import { createCdcReader, parseCdcConfig, type CdcReader } from '../../src/cdc/index.js';

export interface ReaderRig {
  readonly reader: CdcReader;
  readonly bus: Bus;
  readonly events: EventInput[];
  readonly logs: Record<string, unknown>[];
  readonly registry: Registry;
  readonly dataDir: string;
  waitFor(pred: (events: EventInput[]) => boolean, ms?: number): Promise<void>;
  ofType<T extends EventType>(type: T): EventInput<T>[];
}

export async function tempDir(prefix = 'cb-cdc-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export function makeReader(url: string, dataDir: string, env: Record<string, string> = {}): ReaderRig {
  const config = parseCdcConfig({ STEVE_DB_URL: url, CDC_SERVER_ID: String(1000 + Math.floor(Math.random() * 100000)), CDC_HEARTBEAT_MS: '1000', CDC_RECONNECT_MIN_MS: '100', CDC_RECONNECT_MAX_MS: '1000', ...env });
  if (!config) throw new Error('no config');
  const bus = new Bus();
  const events: EventInput[] = [];
  bus.on('eventInput', (e) => events.push(e));
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const registry = new Registry();
  const reader = createCdcReader({ config, bus, logger, dataDir, registry });
  return {
    reader,
    bus,
    events,
    logs,
    registry,
    dataDir,
    async waitFor(pred, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!pred(events)) {
        if (Date.now() > deadline) throw new Error(`timed out; ${events.length} events: ${JSON.stringify(events.slice(-5).map((e) => [e.type, e.id]))}; state ${reader.health().state} ${reader.health().lastError?.message ?? ''}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    ofType<T extends EventType>(type: T): EventInput<T>[] {
      return events.filter((e) => e.type === type) as EventInput<T>[];
    },
  };
}
