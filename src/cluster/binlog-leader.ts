// The binlog reader under the cluster lease: it runs only on the node holding the lease, resumes from the
// checkpoint kept in Redis, and stops the moment the lease goes. Its events and checkpoint reach Redis through the
// fenced outbox (event-stream.ts), so nothing it reads after losing the lease is published. It says it streams only
// once its starting position is in Redis: from then on a successor resumes at or before any row it reads.
import type { Logger } from 'pino';
import type { Checkpoint } from '../cdc/checkpoint.js';
import type { CdcHealth, CdcReader, CdcState } from '../cdc/index.js';
import type { CheckpointPort } from '../cdc/reader.js';
import type { EventOutbox } from './event-stream.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

/** The reader's checkpoint store in cluster mode: loaded from Redis when the lease is taken, saved through the outbox. */
export class SharedCheckpoints implements CheckpointPort {
  readonly file = 'redis';
  #loaded: Checkpoint | undefined;
  /** The lease term that has a checkpoint in Redis: it resumed from one there, or one it saved was appended. */
  #inRedis: string | undefined;

  constructor(private readonly outbox: EventOutbox, private readonly fence: () => string | undefined) {}

  /** What Redis had when the lease term `fence` began. */
  preload(cp: Checkpoint | undefined, fence: string): void {
    this.#loaded = cp;
    this.#inRedis = cp ? fence : undefined;
  }

  /** Whether a checkpoint of this term is in Redis (the outbox appends in order, so a later one never precedes it). */
  inRedis(fence: string): boolean {
    return this.#inRedis === fence;
  }

  load(): Checkpoint | undefined {
    return this.#loaded;
  }

  save(cp: Checkpoint): void {
    this.#loaded = cp;
    const fence = this.fence();
    if (fence !== undefined) this.outbox.checkpoint(JSON.stringify(cp), fence, () => (this.#inRedis = fence));
  }

  async flush(): Promise<void> {}

  close(): void {}
}

export interface LeaderHealth extends CdcHealth {
  readonly lease: { readonly held: boolean; readonly acquired: number; readonly lost: number };
}

export class BinlogLeader implements CdcReader {
  #fence: string | undefined;
  /** The lease term the running reader was started in; undefined from the moment that term ends. */
  #readerFence: string | undefined;
  /** Start and stop run one after another, in the order the lease changed. */
  #chain: Promise<void> = Promise.resolve();
  #running = false;
  readonly counters = { acquired: 0, lost: 0 };

  constructor(
    private readonly inner: CdcReader,
    private readonly checkpoints: SharedCheckpoints,
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly outbox: EventOutbox,
    private readonly logger: Logger,
    /** Resolves once this node has read what the previous holder published (its events are known by id here). */
    private readonly caughtUp: () => Promise<void> = async () => undefined,
  ) {}

  /**
   * The fence SteVe's events and checkpoints go out under: the term the running reader was started in, and none
   * once that term has ended, even after this node took the lease again. A reader of an ended term still runs until
   * its stop completes (a binlog connection can take seconds to close); what it read after its term ended was not
   * published, so a checkpoint of it (its stop saves one) in the new term would skip those rows.
   */
  get readerFence(): string | undefined {
    return this.#readerFence;
  }

  /** The lease decides when the reader runs; start() itself only says the gateway is ready for it. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.#fence = undefined;
    await this.#enqueue(() => this.#stopInner());
  }

  acquired(fence: string): void {
    this.#fence = fence;
    this.counters.acquired++;
    void this.#enqueue(async () => {
      if (this.#fence !== fence) return;
      await this.caughtUp();
      if (this.#fence !== fence) return;
      const raw = await this.#sharedCheckpoint(fence);
      if (raw === undefined) return;
      this.checkpoints.preload(raw ? (JSON.parse(raw) as Checkpoint) : undefined, fence);
      this.logger.info({ checkpoint: raw ? JSON.parse(raw) as unknown : null }, 'binlog reader starting from the shared checkpoint');
      this.#running = true;
      this.#readerFence = fence;
      await this.inner.start().catch((err: unknown) => this.logger.error({ err: String(err) }, 'binlog reader cannot start on this node'));
    });
  }

  lost(): void {
    const fence = this.#fence;
    this.#fence = undefined;
    this.#readerFence = undefined;
    this.counters.lost++;
    if (fence !== undefined) this.outbox.dropFence(fence);
    void this.#enqueue(() => this.#stopInner());
  }

  health(): LeaderHealth {
    const inner = this.inner.health();
    const lease = { held: this.#fence !== undefined, ...this.counters };
    return { ...inner, state: this.#state(inner.state), lease };
  }

  /**
   * 'streaming' means what the reader reads will be published: its term is the current one and its starting
   * position (the snapshot's, when Redis had none) is in Redis. Before, a kill -9 of this node would make the next
   * leader take a snapshot of its own, and the rows read in between would reach clients only as that snapshot's
   * state, not as events.
   */
  #state(s: CdcState): CdcState {
    if (s !== 'streaming') return s;
    const fence = this.#readerFence;
    if (fence === undefined) return 'stopped';
    return this.checkpoints.inRedis(fence) ? 'streaming' : 'starting';
  }

  currentStatus(chargeBoxId: string): ReturnType<CdcReader['currentStatus']> {
    return this.inner.currentStatus(chargeBoxId);
  }

  /**
   * The checkpoint in Redis (null: there is none), asked again while the lease lasts (undefined once it is gone). A
   * failed read is not "none": this node would take a snapshot and skip every row since its predecessor's checkpoint.
   */
  async #sharedCheckpoint(fence: string): Promise<string | null | undefined> {
    while (this.#fence === fence) {
      try {
        return await this.redis.client.get(this.keys.checkpoint);
      } catch (err) {
        this.logger.warn({ err: String(err) }, 'cannot read the shared binlog checkpoint; asking again');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return undefined;
  }

  async #stopInner(): Promise<void> {
    this.#readerFence = undefined;
    if (!this.#running) return;
    this.#running = false;
    await this.inner.stop();
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(fn, fn);
    return this.#chain;
  }
}
