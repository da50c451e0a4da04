// A node whose Redis is not there yet: starting does not wait for it, commands fail at once instead of queueing,
// and the connection comes up by itself once Redis is there.
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisLink } from '../../src/cluster/redis.js';
import { freePort, startRedis, until, type PrivateRedis } from './support.js';

let redis: PrivateRedis | undefined;
afterAll(async () => {
  await redis?.stop();
});

describe('Redis connection', () => {
  it('starts without Redis, fails fast while it is away, and comes up when it appears', async () => {
    const port = await freePort();
    const link = new RedisLink(`redis://127.0.0.1:${port}`, 'test', pino({ level: 'silent' }));
    const t0 = Date.now();
    await link.connect();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(link.up).toBe(false);
    expect(link.health().state).toBe('down');
    const t1 = Date.now();
    await expect(link.client.get('k')).rejects.toThrow();
    expect(Date.now() - t1).toBeLessThan(100);
    redis = await startRedis(port);
    await until(() => link.up, 5000, 'connection up');
    expect(await link.client.ping()).toBe('PONG');
    link.close();
  });
});
