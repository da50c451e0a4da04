// The main thread's side of the reader thread (worker.ts): it starts the thread, puts the events of each batch on
// the bus and then saves the batch's checkpoint, mirrors the thread's health and metrics, and starts a thread that
// died again from the last saved checkpoint (its transactions in flight are read again; ids de-duplicate).
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type pino from 'pino';
import { GatewayError, type GatewayErrorCode } from '../errors.js';
import type { Bus } from '../events/bus.js';
import type { EventInput } from '../events/catalogue.js';
import { decodeBatch } from './batch-codec.js';
import { CheckpointStore, type Checkpoint } from './checkpoint.js';
import type { CdcConfig } from './config.js';
import { createCdcMetrics, type CdcMetrics } from './metrics.js';
import type { CdcDeps, CdcHealth, CdcReader, CheckpointPort } from './reader.js';
import { StatusMirror } from './status-mirror.js';
import type { CurrentStatus } from './translate.js';
import type { FromThread, ThreadSetup, ToThread } from './thread-protocol.js';
import { TurnEndCheckpoint, turnEnded } from './turn-end-checkpoint.js';

/** The process's own `--max-semi-space-size` (MB; 0 = V8's default), from its command line or NODE_OPTIONS. */
function processSemiSpaceMb(): number {
  const args = [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv];
  let mb = 0;
  args.forEach((a, i) => {
    const m = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/.exec(a);
    if (m) mb = Number(m[1] ?? args[i + 1] ?? 0) || 0;
  });
  return mb;
}

/** How the worker is started: the compiled file, or under tsx (tests, benches) its TypeScript source. */
function spawn(setup: ThreadSetup, youngGenerationMb: number): Worker {
  const options = { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb } };
  // A process-wide --max-semi-space-size (say 2 MB for the relay's pauses) would override the thread's resource
  // limit: V8 reads the flag when it builds each heap. Set the thread's size while its heap is built, then put
  // the process's value back (the main thread's heap is built already).
  const own = processSemiSpaceMb();
  v8.setFlagsFromString(`--max-semi-space-size=${Math.max(1, Math.round(youngGenerationMb / 3))}`);
  const self = import.meta.url;
  // Workers do not inherit tsx's loader hooks: register them before importing the source.
  const worker = self.endsWith('.ts')
    ? new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(new URL('./worker.ts', self).href)}); })`, { ...options, eval: true })
    : new Worker(new URL('./worker.js', self), options);
  const restore = (): void => v8.setFlagsFromString(`--max-semi-space-size=${own}`);
  worker.once('online', restore);
  worker.once('exit', restore);
  return worker;
}

const UTF8 = new TextDecoder();

export class ThreadedReader implements CdcReader {
  readonly #config: CdcConfig;
  readonly #young: number;
  readonly #bus: Bus;
  readonly #log: pino.Logger;
  readonly #root: pino.Logger;
  readonly #store: CheckpointPort;
  readonly #metrics: CdcMetrics;
  readonly #mirror = new StatusMirror();
  #worker: Worker | undefined;
  #health: CdcHealth;
  #checkpoint: Checkpoint | undefined;
  readonly #saves = new TurnEndCheckpoint((cp, durable) => this.#write(cp, durable));
  #restarts = 0;
  #stopping = true;
  #restartTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #stopped: (() => void) | undefined;

  constructor(deps: CdcDeps, youngGenerationMb: number) {
    this.#config = deps.config;
    this.#young = youngGenerationMb;
    this.#bus = deps.bus;
    this.#root = deps.logger;
    this.#log = deps.logger.child({ module: 'cdc' });
    this.#store = deps.checkpoints ?? new CheckpointStore(deps.dataDir);
    this.#metrics = deps.metrics ?? createCdcMetrics(deps.registry);
    this.#metrics.setState('stopped');
    const now = new Date().toISOString();
    this.#health = { state: 'stopped', lagSeconds: 0, lastEventAt: null, position: { file: null, position: null, gtid: null }, stateSince: now, error: null, lastError: null, restarts: 0 };
  }

  health(): CdcHealth {
    const cp = this.#checkpoint;
    return { ...this.#health, position: { file: cp?.file ?? null, position: cp?.position ?? null, gtid: cp?.gtid ?? null }, restarts: this.#restarts };
  }

  currentStatus(chargeBoxId: string): ReadonlyMap<number, CurrentStatus> {
    return this.#mirror.of(chargeBoxId);
  }

  /** Resolves once the thread's reader has started (or is retrying in the background); rejects on a configuration problem. */
  async start(): Promise<void> {
    this.#stopping = false;
    this.#checkpoint = this.#store.load();
    this.#flushTimer = setInterval(() => {
      this.#store.flush().catch((err: unknown) => this.#log.error({ err: String(err) }, 'cannot fsync the binlog checkpoint'));
    }, 1000);
    this.#flushTimer.unref();
    const started = await this.#launch();
    if (started.error) {
      await this.stop();
      const e = started.error;
      this.#setHealth({ ...this.#health, state: 'failed', error: e.message, lastError: { message: e.message, at: new Date().toISOString() } });
      throw e.code !== undefined ? new GatewayError(e.code as GatewayErrorCode, e.message, e.details) : new Error(e.message);
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const worker = this.#worker;
    if (worker) {
      // The thread saves its final position on the way out: wait for it (bounded), then end the thread.
      const done = new Promise<void>((resolve) => {
        this.#stopped = resolve;
        setTimeout(resolve, 5000).unref();
      });
      worker.postMessage({ kind: 'stop' } satisfies ToThread);
      await done;
      this.#stopped = undefined;
      await worker.terminate();
      this.#worker = undefined;
    }
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    await turnEnded();
    this.#saves.flush();
    try {
      this.#store.close();
    } catch (err) {
      this.#log.error({ err: String(err) }, 'cannot close the binlog checkpoint journal');
    }
    this.#setHealth({ ...this.#health, state: 'stopped', stateSince: new Date().toISOString(), error: null, lagSeconds: 0 });
  }

  /** Ends the thread the way a crash would (tests, and an operator's last resort); it is started again. */
  async crashThread(): Promise<void> {
    await this.#worker?.terminate();
  }

  #launch(): Promise<NonNullable<Extract<FromThread, { kind: 'started' }>>> {
    const setup: ThreadSetup = { config: this.#config, checkpoint: this.#checkpoint, checkpointFile: this.#store.file, logLevel: this.#root.level };
    const worker = spawn(setup, this.#young);
    this.#worker = worker;
    let reason = '';
    return new Promise((resolve) => {
      worker.on('message', (m: FromThread) => {
        if (worker !== this.#worker) return;
        if (m.kind === 'started') resolve(m);
        else this.#onMessage(m);
      });
      worker.on('error', (err) => {
        reason = err.message;
      });
      worker.on('exit', (code) => {
        if (worker !== this.#worker) return;
        this.#worker = undefined;
        resolve({ kind: 'started' });
        if (this.#stopping) return;
        this.#crashed(`binlog reader thread exited (code ${code}${reason ? `: ${reason}` : ''})`);
      });
    });
  }

  #crashed(message: string): void {
    this.#restarts += 1;
    const at = new Date().toISOString();
    this.#log.error({ err: message, restarts: this.#restarts, checkpoint: this.#checkpoint }, 'binlog reader thread died; starting it again from the checkpoint');
    this.#setHealth({ ...this.#health, state: 'reconnecting', stateSince: at, error: message, lastError: { message, at } });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopping) return;
      void this.#launch().then((started) => {
        if (started.error) this.#log.error({ err: started.error.message }, 'binlog reader thread cannot start again');
      });
    }, this.#config.reconnectMinMs);
  }

  #onMessage(m: Exclude<FromThread, { kind: 'started' }>): void {
    switch (m.kind) {
      case 'batch':
        if (m.events) this.#emit(decodeBatch(UTF8.decode(m.events)));
        // Written at the end of this turn, after the history has written the events (turn-end-checkpoint.ts).
        // Every position the thread sends is one to write: its own reader already kept back positions that only
        // moved (MOVED_EVERY_MS), and a batch's events may have come in an earlier message of the same turn there.
        if (m.checkpoint) {
          this.#checkpoint = m.checkpoint;
          this.#saves.afterEvents(m.checkpoint, m.durable);
        }
        this.#setHealth(m.health);
        return;
      case 'health':
        this.#setHealth(m.health);
        return;
      case 'metric': {
        const x = m.metric;
        if (x.name === 'reconnects') this.#metrics.reconnects.inc();
        else if (x.name === 'snapshots') this.#metrics.snapshots.inc({ reason: x.reason });
        else this.#metrics.unmapped.inc({ table: x.table });
        return;
      }
      case 'log':
        return this.#relog(m.line);
      case 'stopped':
        this.#stopped?.();
        return;
    }
  }

  #emit(events: readonly EventInput[]): void {
    for (const e of events) {
      this.#metrics.countEvent(e.type);
      this.#mirror.note(e);
      try {
        this.#bus.emit('eventInput', e);
      } catch (err) {
        // A consumer's bug must not stop the stream (the event still counts as handed on).
        this.#log.error({ err: String(err), id: e.id }, 'eventInput listener threw');
      }
    }
  }

  #write(cp: Checkpoint, durable: boolean): void {
    try {
      this.#store.save(cp, durable);
    } catch (err) {
      this.#log.error({ err: String(err), file: this.#store.file }, 'cannot write the binlog checkpoint');
    }
  }

  #setHealth(h: CdcHealth): void {
    if (h.state !== this.#health.state) this.#metrics.setState(h.state);
    this.#metrics.lag.set(h.lagSeconds);
    this.#health = h;
  }

  /** A line of the thread's logger, written by this thread's logger (same level, fields and message). */
  #relog(line: string): void {
    const { level, msg, time: _time, pid: _pid, hostname: _host, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const name = this.#root.levels.labels[Number(level)] as pino.Level | undefined;
    if (name) this.#root[name](fields, typeof msg === 'string' ? msg : '');
  }
}
