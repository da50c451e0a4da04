// Experiment, for bench/push/binlog.ts --reader-thread: the binlog reader in a worker thread with its own heap,
// its events posted to the main thread's bus, so the thread that writes to clients holds little besides the
// sockets. The gateway does not do this; the bench measures whether it would pay (BENCHMARKS.md says it did not).
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createCdcReader, parseCdcConfig, type CdcConfig } from '../../src/cdc/index.js';
import { Bus } from '../../src/events/bus.js';
import type { EventInput } from '../../src/events/catalogue.js';

interface Setup { dbUrl: string; dataDir: string }
type FromWorker = { kind: 'event'; e: EventInput } | { kind: 'streaming' } | { kind: 'failed'; message: string } | { kind: 'stopped' };

/** Main side: resolves once the threaded reader streams; every event it reads is emitted on `bus`. */
export async function startReaderThread(bus: Bus, setup: Setup, youngGenerationMb?: number): Promise<{ stop(): Promise<void> }> {
  // Workers do not inherit tsx's hooks: register them before importing this file in the thread.
  const entry = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(import.meta.filename)}); })`;
  const worker = new Worker(entry, { eval: true, workerData: setup, ...(youngGenerationMb ? { resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } } : {}) });
  await new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'event') bus.emit('eventInput', m.e);
      else if (m.kind === 'streaming') resolve();
      else if (m.kind === 'failed') reject(new Error(m.message));
    });
  });
  return {
    stop: () => new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('stop');
    }),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const post = (m: FromWorker): void => port.postMessage(m);
  const { dbUrl, dataDir } = workerData as Setup;
  const bus = new Bus();
  bus.on('eventInput', (e) => post({ kind: 'event', e }));
  const reader = createCdcReader({
    config: parseCdcConfig({ STEVE_DB_URL: dbUrl, CDC_SERVER_ID: '911' }) as CdcConfig,
    bus, logger: pino({ level: 'silent' }), dataDir: path.resolve(dataDir), registry: new Registry(),
  });
  reader.start().catch((err: unknown) => post({ kind: 'failed', message: String(err) }));
  const poll = setInterval(() => {
    if (reader.health().state !== 'streaming') return;
    clearInterval(poll);
    post({ kind: 'streaming' });
  }, 20);
  port.on('message', () => void reader.stop().then(() => process.exit(0)));
}
