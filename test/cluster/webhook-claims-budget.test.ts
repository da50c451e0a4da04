// Events waiting to be claimed for a CONFIG_FILE webhook (cluster mode) have a byte budget per subscription: a node
// that is not a station's first deliverer keeps them for the backup delay, and without a budget a busy fleet's events
// piled up there unbounded (issue 16; README "Memory").
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { ClusterKeys } from '../../src/cluster/keys.js';
import { webhookClaims } from '../../src/cluster/webhook-claims.js';
import { redisForTests, until } from './support.js';

const redis = redisForTests();

const event = (seq: number, chargeBoxId: string): GatewayEvent =>
  ({
    id: `e${seq}`, seq, type: 'dataTransfer', chargeBoxId, timestamp: '2026-12-07T10:00:00Z', receivedAt: '2026-12-07T10:00:00Z', source: 'station',
    data: { vendorId: 'V', messageId: 'M', data: 'x'.repeat(1000) },
  }) as unknown as GatewayEvent;

describe('webhook claims in a cluster', () => {
  it('keep at most their byte budget per subscription waiting, count what they refuse, and deliver what they kept', async () => {
    const link = await redis.link();
    const budget = 10 * 1024;
    const claims = webhookClaims({
      redis: link, keys: new ClusterKeys(`budget-${Date.now()}`), nodeId: () => 'node-x', logger: pino({ level: 'silent' }),
      // Not this node's stations: it waits the backup delay before claiming, so what comes meanwhile waits here.
      first: () => false, backupMs: 300, queueBytes: budget,
    });
    const delivered: GatewayEvent[] = [];
    const stations = ['B1', 'B2', 'B3', 'B4'];
    for (let seq = 1; seq <= 25; seq++) claims.claim('sub', stations.map((s) => event(seq, s)), (e) => delivered.push(e));
    expect(claims.counters.droppedForBytes).toBeGreaterThan(80);
    expect(claims.queuedBytes('sub')).toBeLessThanOrEqual(budget);
    const kept = 100 - claims.counters.droppedForBytes;
    await until(() => delivered.length >= kept || undefined, 5000, 'kept events delivered');
    expect(delivered).toHaveLength(kept);
    expect(claims.queuedBytes('sub')).toBe(0);
    // Another subscription has a budget of its own.
    claims.claim('other', [event(1, 'B1')], (e) => delivered.push(e));
    expect(claims.queuedBytes('other')).toBeGreaterThan(1000);
  });
});
