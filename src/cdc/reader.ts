// The binlog reader's life: start-up checks, snapshot or resume, streaming, reconnecting with backoff, and the
// ordered hand-off of events to the bus followed by the checkpoint.
import type { Pool } from 'mysql2/promise';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import type { Bus } from '../events/bus.js';
import type { EventInput } from '../events/catalogue.js';
import { CheckpointStore, type Checkpoint } from './checkpoint.js';
import { checkServer, configProblem, detectNaming, type ServerFacts } from './checks.js';
import type { CdcConfig } from './config.js';
import { createQueryPool } from './db.js';
import { createCdcMetrics, type CdcMetrics, type CdcState } from './metrics.js';
import { WATCHED_TABLES } from './schema.js';
import { takeSnapshot } from './snapshot.js';
import { BinlogStream, isPurgedBinlog, type StreamItem, type StreamStart } from './stream.js';
import { Topology } from './topology.js';
import { Translator, type CurrentStatus, type Missing, type TxContext } from './translate.js';
import { TurnEndCheckpoint, turnEnded } from './turn-end-checkpoint.js';

export interface CdcDeps {
  readonly config: CdcConfig;
  readonly bus: Bus;
  readonly logger: pino.Logger;
  readonly dataDir: string;
  readonly registry: Registry;
  /** Where the position is kept; DATA_DIR/cdc by default, Redis in cluster mode (src/cluster). */
  readonly checkpoints?: CheckpointPort;
  /** Where counts go; on `registry` by default (the reader thread passes them to the main thread instead). */
  readonly metrics?: CdcMetrics;
}

/** What the reader needs of a checkpoint store. */
export type CheckpointPort = Pick<CheckpointStore, 'file' | 'load' | 'save' | 'flush' | 'close'>;

export interface CdcHealth {
  readonly state: CdcState;
  /** Commit-to-hand-off delay of the latest transaction; 0 while idle and caught up. */
  readonly lagSeconds: number;
  readonly lastEventAt: string | null;
  readonly position: { readonly file: string | null; readonly position: number | null; readonly gtid: string | null };
  /** When the current state began (ISO 8601). */
  readonly stateSince: string;
  /** What keeps the reader from streaming now (while reconnecting or failed); null once it streams again. */
  readonly error: string | null;
  /** History: the most recent error and when it happened, kept after recovery. */
  readonly lastError: { readonly message: string; readonly at: string } | null;
  /** Reader threads that died and were started again from the checkpoint (0 for a reader in the main thread). */
  readonly restarts: number;
}

export interface CdcReader {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): CdcHealth;
  /** Newest status per station and connector, by status_timestamp (rows may arrive out of order). */
  currentStatus(chargeBoxId: string): ReadonlyMap<number, CurrentStatus>;
}

type SnapshotReason = 'no-checkpoint' | 'binlog-purged';

const NO_SUCH = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_FIELD_ERROR']);

export class BinlogReader implements CdcReader {
  readonly #config: CdcConfig;
  readonly #bus: Bus;
  readonly #log: pino.Logger;
  readonly #store: CheckpointPort;
  readonly #metrics: CdcMetrics;
  #db: Pool | undefined;
  #facts: ServerFacts | undefined;
  #topo: Topology | undefined;
  #translator: Translator | undefined;
  #stream: BinlogStream | undefined;
  #checkpoint: Checkpoint | undefined;

  #state: CdcState = 'stopped';
  #stateSince = new Date().toISOString();
  #lag = 0;
  #lastEventAt: string | null = null;
  #error: string | null = null;
  #lastError: { message: string; at: string } | null = null;
  #stopping = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  /** Positions are written at the end of their turn, after what their events caused (turn-end-checkpoint.ts). */
  readonly #saves = new TurnEndCheckpoint((cp, durable) => this.#write(cp, durable));

  // Ordered processing: items wait here while a cache miss is looked up.
  #queue: StreamItem[] = [];
  #current: StreamItem | undefined;
  #cursor = 0;
  #busy = false;
  #generation = 0;
  #txReceivedAt: string | undefined;

  constructor(deps: CdcDeps) {
    this.#config = deps.config;
    this.#bus = deps.bus;
    this.#log = deps.logger.child({ module: 'cdc' });
    this.#store = deps.checkpoints ?? new CheckpointStore(deps.dataDir);
    this.#metrics = deps.metrics ?? createCdcMetrics(deps.registry);
    this.#metrics.setState('stopped');
  }

  health(): CdcHealth {
    const cp = this.#checkpoint;
    return {
      state: this.#state,
      lagSeconds: this.#lag,
      lastEventAt: this.#lastEventAt,
      position: { file: cp?.file ?? null, position: cp?.position ?? null, gtid: cp?.gtid ?? null },
      stateSince: this.#stateSince,
      error: this.#error,
      lastError: this.#lastError,
      restarts: 0,
    };
  }

  currentStatus(chargeBoxId: string): ReadonlyMap<number, CurrentStatus> {
    const out = new Map<number, CurrentStatus>();
    const topo = this.#topo;
    if (!topo || !this.#translator) return out;
    for (const [pk, s] of this.#translator.current) {
      const ref = topo.connectors.get(pk);
      if (ref?.chargeBoxId.toLowerCase() === chargeBoxId.toLowerCase()) out.set(ref.connectorId, s);
    }
    return out;
  }

  async start(): Promise<void> {
    this.#stopping = false;
    this.#setState('starting');
    this.#db = createQueryPool(this.#config);
    this.#flushTimer = setInterval(() => this.#flushDurable(), 1000);
    this.#flushTimer.unref();
    try {
      await this.#boot();
    } catch (err) {
      const problem = configProblem(err, this.#config);
      if (problem) {
        this.#failedWith(problem.message);
        this.#setState('failed');
        await this.#close();
        throw problem;
      }
      // Not reachable right now: the gateway runs on, the reader keeps trying.
      this.#log.warn({ err: String(err) }, 'SteVe database not reachable; retrying in the background');
      this.#retry(() => this.#boot(), err);
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    const stream = this.#stream;
    this.#stream = undefined;
    await stream?.stop();
    this.#abandonPending();
    await this.#close();
    this.#setState('stopped');
  }

  async #close(): Promise<void> {
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    await turnEnded();
    this.#saves.flush(this.#checkpoint, true);
    try {
      this.#store.close();
    } catch (err) {
      this.#log.error({ err: String(err) }, 'cannot close the binlog checkpoint journal');
    }
    const db = this.#db;
    this.#db = undefined;
    await db?.end().catch(() => undefined);
  }

  #setState(s: CdcState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#stateSince = new Date().toISOString();
    // Working again (or stopped on purpose): the error is history now, no longer the current state.
    if (s !== 'reconnecting' && s !== 'failed') this.#error = null;
    this.#metrics.setState(s);
    this.#log.info({ state: s }, 'binlog reader state');
  }

  #pool(): Pool {
    if (!this.#db) throw new Error('binlog reader is stopped');
    return this.#db;
  }

  async #boot(): Promise<void> {
    const facts = await checkServer(this.#pool(), this.#config);
    this.#facts = facts;
    for (const w of facts.warnings) this.#log.warn(w);
    this.#log.info({ server: facts.version, naming: facts.naming.generation, optional: facts.optionalTables }, 'SteVe database checked');
    const cp = this.#store.load();
    if (cp === undefined) return this.#snapshotAndStream('no-checkpoint');
    const topo = new Topology(facts.naming);
    await topo.seed(this.#pool());
    this.#topo = topo;
    this.#translator = this.#newTranslator(topo);
    this.#checkpoint = cp;
    this.#log.info({ checkpoint: cp }, 'resuming from checkpoint');
    this.#openStream(cp);
  }

  #newTranslator(topo: Topology): Translator {
    return new Translator(topo, {
      unmapped: (table, detail) => {
        this.#metrics.unmapped.inc({ table });
        this.#log.warn({ table, detail }, 'binlog row cannot be attributed to a station; skipped');
      },
    });
  }

  async #snapshotAndStream(reason: SnapshotReason): Promise<void> {
    const facts = this.#facts;
    if (!facts) throw new Error('start-up checks have not run');
    this.#setState('snapshotting');
    this.#metrics.snapshots.inc({ reason });
    const topo = new Topology(facts.naming);
    const snap = await takeSnapshot(this.#pool(), facts.naming, topo, facts.mariadb ? 'mariadb' : 'read-lock', facts.mariadb);
    this.#topo = topo;
    const translator = this.#newTranslator(topo);
    for (const [pk, s] of snap.current) translator.current.set(pk, s);
    this.#translator = translator;
    const coord = snap.gtid ?? `${snap.file}:${snap.position}`;
    const now = new Date().toISOString();
    for (const [chargeBoxId, data] of snap.stations) {
      this.#emit({
        id: `steve:snapshot:${coord}:${chargeBoxId}`,
        type: 'resync',
        chargeBoxId,
        timestamp: now,
        receivedAt: now,
        source: 'steve',
        data: { reason, ...data },
      });
    }
    this.#checkpoint = {
      ...(snap.gtid !== undefined ? { gtid: snap.gtid } : {}),
      file: snap.file,
      position: snap.position,
      updatedAt: now,
    };
    this.#saves.afterEvents(this.#checkpoint, true);
    this.#log.info({ reason, stations: snap.stations.size, checkpoint: this.#checkpoint }, 'snapshot taken; streaming from its binlog point');
    this.#openStream(this.#checkpoint);
  }

  #failedWith(message: string): void {
    this.#error = message;
    this.#lastError = { message, at: new Date().toISOString() };
  }

  #openStream(from: StreamStart): void {
    if (this.#stopping) return;
    const tables = WATCHED_TABLES;
    const stream: BinlogStream = new BinlogStream(this.#config, tables, {
      item: (item) => {
        if (this.#attempt > 0) {
          this.#attempt = 0;
          this.#log.info('binlog stream re-established');
        }
        this.#setState('streaming');
        this.#push(item);
      },
      error: (err) => this.#streamFailed(stream, err),
      ready: () => this.#setState('streaming'),
    });
    this.#stream = stream;
    stream.start(from);
  }

  #streamFailed(stream: BinlogStream, err: unknown): void {
    if (stream !== this.#stream || this.#stopping) return;
    this.#stream = undefined;
    void stream.stop();
    this.#abandonPending();
    const message = err instanceof Error ? err.message : String(err);
    this.#failedWith(message);
    if (isPurgedBinlog(err)) {
      this.#log.warn({ err: message, checkpoint: this.#checkpoint }, 'checkpoint no longer in the binlog; taking a new snapshot');
      this.#retry(() => this.#snapshotAndStream('binlog-purged'), err, true);
      return;
    }
    this.#log.warn({ err: message }, 'binlog stream lost; reconnecting');
    this.#metrics.reconnects.inc();
    this.#retry(() => this.#resume(), err);
  }

  async #resume(): Promise<void> {
    const cp = this.#checkpoint;
    if (cp === undefined) return this.#snapshotAndStream('no-checkpoint');
    this.#openStream(cp);
  }

  /** Run `fn` after a backoff; failures that can be retried schedule it again, forever. */
  #retry(fn: () => Promise<void>, cause: unknown, immediate = false): void {
    if (this.#stopping) return;
    this.#setState('reconnecting');
    this.#failedWith(cause instanceof Error ? cause.message : String(cause));
    const { reconnectMinMs: min, reconnectMaxMs: max } = this.#config;
    const base = immediate && this.#attempt === 0 ? 0 : Math.min(max, min * 2 ** Math.min(this.#attempt, 20));
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.#attempt += 1;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#stopping) return;
      fn().catch((err: unknown) => {
        const problem = configProblem(err, this.#config);
        if (problem) this.#log.error({ err: problem.message }, 'binlog reader cannot work with this server; retrying');
        else this.#log.warn({ err: String(err) }, 'binlog reader retry failed');
        this.#retry(fn, problem ?? err);
      });
    }, delay);
  }

  // ---- ordered processing -------------------------------------------------------------------------------

  #push(item: StreamItem): void {
    this.#queue.push(item);
    if (!this.#busy) this.#drain();
  }

  #drain(): void {
    for (;;) {
      const item = this.#current ?? this.#queue.shift();
      if (item === undefined) break;
      this.#current = item;
      const wait = this.#step(item);
      if (wait !== undefined) {
        this.#block(wait);
        return;
      }
      this.#current = undefined;
      this.#cursor = 0;
    }
    if (this.#busy) {
      this.#busy = false;
      this.#stream?.resume();
    }
  }

  #block(missing: Missing): void {
    const generation = this.#generation;
    const stream = this.#stream;
    this.#busy = true;
    stream?.pause();
    this.#lookup(missing).then(
      () => {
        if (generation === this.#generation) this.#drain();
      },
      (err: unknown) => {
        if (generation === this.#generation && stream) this.#streamFailed(stream, err);
      },
    );
  }

  async #lookup(missing: Missing): Promise<void> {
    const topo = this.#topo;
    if (!topo) return;
    const run = async (): Promise<void> => {
      await topo.fetchConnectors(this.#pool(), missing.connectors);
      await topo.fetchTransactions(this.#pool(), missing.transactions);
    };
    try {
      await run();
    } catch (err) {
      if (!NO_SUCH.has(String((err as { code?: string }).code))) throw err;
      // SteVe was upgraded under us (connector → evse): follow the new naming.
      topo.setNaming(await detectNaming(this.#pool(), this.#config.database));
      await run();
    }
  }

  #abandonPending(): void {
    this.#generation += 1;
    this.#queue = [];
    this.#current = undefined;
    this.#cursor = 0;
    this.#busy = false;
    this.#txReceivedAt = undefined;
    this.#translator?.discard();
  }

  /** Handle one item; a cache miss returns what to look up, and the item is resumed at the same row afterwards. */
  #step(item: StreamItem): Missing | undefined {
    const translator = this.#translator;
    if (!translator) return undefined;
    switch (item.kind) {
      case 'rows': {
        this.#txReceivedAt ??= new Date().toISOString();
        const tx: TxContext = { key: item.key, statement: item.statement, receivedAt: this.#txReceivedAt };
        const stop = translator.applyRows(item.table, item.op, item.rows, item.firstIndex, this.#cursor, tx);
        if (stop === undefined) return undefined;
        this.#cursor = stop.at;
        return stop.missing;
      }
      case 'commit': {
        const receivedAt = this.#txReceivedAt ?? new Date().toISOString();
        this.#txReceivedAt = undefined;
        const events = translator.commit();
        for (const e of events) this.#emit(e);
        if (events.length > 0) {
          this.#lastEventAt = receivedAt;
          this.#lag = Math.max(0, (Date.now() - item.eventTimeMs) / 1000);
          this.#metrics.lag.set(this.#lag);
        }
        this.#checkpoint = item.checkpoint;
        // Written at the end of the turn, after the history has written these events: a crash repeats at most
        // the transactions of one turn. Transactions without events only move the position.
        if (events.length > 0) this.#saves.afterEvents(item.checkpoint);
        else this.#saves.moved(item.checkpoint);
        return undefined;
      }
      case 'alive':
        if (this.#queue.length === 0) {
          this.#lag = 0;
          this.#metrics.lag.set(0);
        }
        return undefined;
    }
  }

  #emit(e: EventInput): void {
    this.#metrics.countEvent(e.type);
    try {
      this.#bus.emit('eventInput', e);
    } catch (err) {
      // A consumer's bug must not stop the stream (the event still counts as handed on).
      this.#log.error({ err: String(err), id: e.id }, 'eventInput listener threw');
    }
  }

  // ---- checkpoint -------------------------------------------------------------------------------------------

  #write(cp: Checkpoint, durable: boolean): void {
    try {
      this.#store.save(cp, durable);
    } catch (err) {
      this.#log.error({ err: String(err), file: this.#store.file }, 'cannot write the binlog checkpoint');
    }
  }

  #flushDurable(): void {
    this.#store.flush().catch((err: unknown) => this.#log.error({ err: String(err) }, 'cannot fsync the binlog checkpoint'));
  }
}
