// The binlog reader under the lease, without processes: what a new holder resumes from, and under which fence a
// reader publishes. A read of the shared checkpoint that fails is asked again, never taken for "no checkpoint" (which
// would make the node take a snapshot and skip every row since its predecessor's checkpoint). A reader of a lease
// term that ended publishes nothing, even while it stops after this node took the lease again. It says it streams
// only once its starting position is in Redis.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/cdc/checkpoint.js';
import type { CdcHealth, CdcReader, CdcState } from '../../src/cdc/index.js';
import { BinlogLeader, SharedCheckpoints } from '../../src/cluster/binlog-leader.js';
import type { EventOutbox } from '../../src/cluster/event-stream.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import type { RedisLink } from '../../src/cluster/redis.js';
import { until } from './support.js';

const log = pino({ level: 'silent' });

/** Records what the shared checkpoint store offered it when it started; its stop saves its position, as the reader's. */
class Inner implements CdcReader {
  readonly startedFrom: (Checkpoint | undefined)[] = [];
  /** Until resolved, a stop waits (a binlog connection slow to close). */
  stopping: Promise<void> = Promise.resolve();
  position: Checkpoint | undefined;
  state: CdcState = 'stopped';
  constructor(private readonly checkpoints: SharedCheckpoints) {}
  /** Resumes from the checkpoint offered, or takes a "snapshot" at `snapshotAt` and saves its position. */
  async start(snapshotAt: Checkpoint = { file: 'binlog.000001', position: 7, updatedAt: '' }): Promise<void> {
    const from = this.checkpoints.load();
    this.startedFrom.push(from);
    if (from === undefined) this.checkpoints.save(snapshotAt);
    this.state = 'streaming';
  }
  async stop(): Promise<void> {
    await this.stopping;
    if (this.position) this.checkpoints.save(this.position);
    this.state = 'stopped';
  }
  health(): CdcHealth {
    return { state: this.state, lagSeconds: 0, lastEventAt: null, position: { file: null, position: null, gtid: null }, stateSince: '', error: null, lastError: null, restarts: 0 };
  }
  currentStatus(): ReturnType<CdcReader['currentStatus']> {
    return new Map();
  }
}

describe('binlog leader', () => {
  it('asks Redis again for the checkpoint when the first read fails, and resumes from it', async () => {
    const cp: Checkpoint = { file: 'binlog.000001', position: 4242, updatedAt: '2026-12-07T00:00:00.000Z' };
    let reads = 0;
    const redis = {
      client: {
        get: async (): Promise<string | null> => {
          if (++reads === 1) throw new Error('Connection is closed.');
          return JSON.stringify(cp);
        },
      },
    } as unknown as RedisLink;
    const outbox = { checkpoint: () => undefined, dropFence: () => undefined } as unknown as EventOutbox;
    const checkpoints = new SharedCheckpoints(outbox, () => '1 a');
    const inner = new Inner(checkpoints);
    const leader = new BinlogLeader(inner, checkpoints, redis, new ClusterKeys('leader-test'), outbox, log);
    leader.acquired('1 a');
    await until(() => inner.startedFrom.length > 0, 3000, 'the reader starts');
    expect(inner.startedFrom).toEqual([cp]);
    expect(reads).toBe(2);
  });

  it('a reader of an ended lease term publishes no checkpoint, even once this node holds the lease again', async () => {
    const cp: Checkpoint = { file: 'binlog.000001', position: 100, updatedAt: '2026-12-07T00:00:00.000Z' };
    const redis = { client: { get: async () => JSON.stringify(cp) } } as unknown as RedisLink;
    const saved: [string, string][] = [];
    const outbox = { checkpoint: (json: string, fence: string) => saved.push([fence, json]), dropFence: () => undefined } as unknown as EventOutbox;
    let held: string | undefined = '1 a';
    let leader: BinlogLeader | undefined;
    // As cluster/index.ts wires it: the lease held now, if the running reader was started in that term.
    const checkpoints = new SharedCheckpoints(outbox, () => (held !== undefined && held === leader?.readerFence ? held : undefined));
    const inner = new Inner(checkpoints);
    leader = new BinlogLeader(inner, checkpoints, redis, new ClusterKeys('leader-test'), outbox, log);
    leader.acquired('1 a');
    await until(() => inner.startedFrom.length === 1, 3000, 'the reader starts');
    expect(leader.readerFence).toBe('1 a');

    // Its lease lapses while it has read up to position 900, whose events were not published; its stop is slow and
    // the node takes the lease again meanwhile.
    inner.position = { ...cp, position: 900 };
    let release = (): void => undefined;
    inner.stopping = new Promise((r) => (release = r));
    held = undefined;
    leader.lost();
    held = '2 a';
    leader.acquired('2 a');
    expect(leader.readerFence).toBeUndefined();
    release();
    await until(() => inner.startedFrom.length === 2, 3000, 'the reader starts again');
    expect(saved).toEqual([]); // position 900 never reached Redis: the new term resumes from 100 and reads the rows again
    expect(inner.startedFrom[1]).toEqual(cp);
    expect(leader.readerFence).toBe('2 a');
  });

  it('says it streams only once its snapshot\'s position is in Redis, and not once its term has ended', async () => {
    const redis = { client: { get: async () => null } } as unknown as RedisLink;
    const landed: (() => void)[] = [];
    const outbox = {
      checkpoint: (_json: string, _fence: string, done?: () => void) => done && landed.push(done),
      dropFence: () => undefined,
    } as unknown as EventOutbox;
    let leader: BinlogLeader | undefined;
    const checkpoints = new SharedCheckpoints(outbox, () => leader?.readerFence);
    const inner = new Inner(checkpoints);
    leader = new BinlogLeader(inner, checkpoints, redis, new ClusterKeys('leader-test'), outbox, log);
    leader.acquired('1 a');
    await until(() => inner.state === 'streaming', 3000, 'the reader streams');
    expect(landed).toHaveLength(1); // the snapshot's position, on its way
    expect(leader.health().state).toBe('starting');
    landed[0]!();
    expect(leader.health().state).toBe('streaming');
    inner.stopping = new Promise(() => undefined); // a stop that does not end: the reader still says streaming
    leader.lost();
    expect(leader.health().state).toBe('stopped');
  });
});
