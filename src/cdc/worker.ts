// The binlog reader's thread: the whole reader (binlog connection, row decoding, translation) on a heap of its own.
// Events go to the main thread in batches, each batch followed by the checkpoint that covers it, so the main thread
// saves a position only once it has put the events before it on its bus (at-least-once; ids de-duplicate).
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { Registry } from 'prom-client';
import { GatewayError } from '../errors.js';
import { Bus } from '../events/bus.js';
import type { EventInput } from '../events/catalogue.js';
import { encodeBatch } from './batch-codec.js';
import type { Checkpoint } from './checkpoint.js';
import type { CdcMetrics } from './metrics.js';
import { BinlogReader, type CheckpointPort } from './reader.js';
import type { FromThread, ThreadMetric, ThreadSetup, ToThread } from './thread-protocol.js';

const port = parentPort;
if (!port) throw new Error('src/cdc/worker.ts runs as a worker thread');
const setup = workerData as ThreadSetup;
const post = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);
const utf8 = new TextEncoder();
const metric = (m: ThreadMetric): void => post({ kind: 'metric', metric: m });

let pending: EventInput[] = [];
let flushQueued = false;

/** Everything emitted so far in one message; `checkpoint` is saved by the main thread after the events. */
function flush(checkpoint: Checkpoint | undefined, durable: boolean): void {
  const events = pending.length > 0 ? utf8.encode(encodeBatch(pending)) : undefined;
  pending = [];
  post({ kind: 'batch', events, checkpoint, durable, health: reader.health() }, events ? [events.buffer as ArrayBuffer] : []);
}

const bus = new Bus();
bus.on('eventInput', (e) => {
  pending.push(e);
  // The reader saves after each transaction's events; this only catches events no save follows.
  if (flushQueued) return;
  flushQueued = true;
  setImmediate(() => {
    flushQueued = false;
    if (pending.length > 0) flush(undefined, false);
  });
});

let last = setup.checkpoint;
const checkpoints: CheckpointPort = {
  file: setup.checkpointFile,
  load: () => last,
  save(cp, durable = false) {
    last = cp;
    flush(cp, durable);
  },
  flush: async () => undefined,
  close: () => undefined,
};

let healthPosted = '';
function postHealth(): void {
  const health = reader.health();
  const text = JSON.stringify(health);
  if (text === healthPosted) return;
  healthPosted = text;
  post({ kind: 'health', health });
}

const metrics: CdcMetrics = {
  // The state, the error and the lag travel in the health, after the reader has updated all of them.
  setState: () => queueMicrotask(postHealth),
  lag: { set: () => undefined },
  countEvent: () => undefined, // counted where the events reach the bus
  reconnects: { inc: () => metric({ name: 'reconnects' }) },
  snapshots: { inc: ({ reason }) => metric({ name: 'snapshots', reason }) },
  unmapped: { inc: ({ table }) => metric({ name: 'unmapped', table }) },
};

const logger = pino({ level: setup.logLevel }, { write: (line: string) => post({ kind: 'log', line }) });
const reader = new BinlogReader({ config: setup.config, bus, logger, dataDir: '', registry: new Registry(), checkpoints, metrics });
// The lag drops to 0 on an idle heartbeat without a batch: look again every second.
setInterval(postHealth, 1000).unref();

port.on('message', (m: ToThread) => {
  if (m.kind !== 'stop') return;
  void reader.stop().finally(() => post({ kind: 'stopped' }));
});

reader.start().then(
  () => post({ kind: 'started' }),
  (err: unknown) => {
    const e = err instanceof GatewayError ? { message: err.message, code: err.code, details: err.details } : { message: String(err) };
    post({ kind: 'started', error: e });
  },
);
