// The binlog reader under the lease, without processes: what a new holder resumes from. A read of the shared
// checkpoint that fails is asked again, never taken for "no checkpoint" (which would make the node take a snapshot
// and skip every row since its predecessor's checkpoint).
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/cdc/checkpoint.js';
import type { CdcHealth, CdcReader } from '../../src/cdc/index.js';
import { BinlogLeader, SharedCheckpoints } from '../../src/cluster/binlog-leader.js';
import type { EventOutbox } from '../../src/cluster/event-stream.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import type { RedisLink } from '../../src/cluster/redis.js';
import { until } from './support.js';

const log = pino({ level: 'silent' });

/** Records what the shared checkpoint store offered it when it started. */
class Inner implements CdcReader {
  readonly startedFrom: (Checkpoint | undefined)[] = [];
  constructor(private readonly checkpoints: SharedCheckpoints) {}
  async start(): Promise<void> {
    this.startedFrom.push(this.checkpoints.load());
  }
  async stop(): Promise<void> {}
  health(): CdcHealth {
    return { state: 'stopped', lagSeconds: 0, lastEventAt: null, position: { file: null, position: null, gtid: null }, stateSince: '', error: null, lastError: null, restarts: 0 };
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
});
