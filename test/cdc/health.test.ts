// The reader's health tells the current state apart from the last error: after mariadbd is killed and comes
// back, health says `streaming` with no current error, and keeps the last error with its time as history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { makeReader, tempDir } from './harness.js';
import { SteveWriter } from './steve-writes.js';

let server: PrivateMariadb;

beforeAll(async () => {
  server = await startMariadb();
});
afterAll(async () => {
  await server?.stop();
});

describe('binlog reader health', () => {
  it('error → recovery: streaming, no current error, the last error kept with its time', async () => {
    const url = await createSteveDatabase(server, { database: 'health_db', generation: '3.13' });
    let w = await SteveWriter.open(server, 'health_db', '3.13');
    await w.addStation('CB1');
    const rig = makeReader(url, await tempDir());
    await rig.reader.start();
    await rig.waitFor(() => rig.reader.health().state === 'streaming');
    const healthy = rig.reader.health();
    expect(healthy.error).toBeNull();
    expect(healthy.lastError).toBeNull();

    await server.kill9();
    await rig.waitFor(() => rig.reader.health().state === 'reconnecting', 15_000);
    const down = rig.reader.health();
    expect(down.error).toEqual(expect.any(String));
    expect(down.lastError?.message).toBe(down.error);
    const failedAt = Date.parse(down.lastError!.at);
    expect(Math.abs(failedAt - Date.now())).toBeLessThan(30_000);

    await server.restart();
    w = await SteveWriter.open(server, 'health_db', '3.13');
    await w.statusNotification('CB1', 1, 'Available', 'NoError', { timestamp: new Date().toISOString() });
    await rig.waitFor(() => rig.reader.health().state === 'streaming' && rig.ofType('status').length >= 1, 30_000);

    const up = rig.reader.health();
    expect(up.state).toBe('streaming');
    expect(up.error).toBeNull();
    // History: the last error is still there, dated before the streaming state began.
    expect(up.lastError).not.toBeNull();
    expect(typeof up.lastError!.message).toBe('string');
    expect(Date.parse(up.lastError!.at)).toBeGreaterThanOrEqual(failedAt);
    expect(Date.parse(up.stateSince)).toBeGreaterThanOrEqual(Date.parse(up.lastError!.at));
    await rig.reader.stop();
    await w.close();
  }, 90_000);
});
