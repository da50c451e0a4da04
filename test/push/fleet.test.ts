// The fleet feed: every station the token allows in the ack, then one `fleet` message per tick holding each
// changed station once, at its newest state; scoped by the token (a viewer sees its own station only), finding
// ids carried, and no events of stations the socket did not subscribe to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/events/catalogue.js';
import type { FleetEntry } from '../../src/push/fleet-entry.js';
import { ack, collect, connect, operatorToken, startPushGateway, until, viewerToken, type PushGateway } from './support/harness.js';

const TICK_MS = 200;
let pg: PushGateway;
let n = 0;
const now = (): string => new Date().toISOString();
const input = (chargeBoxId: string, rest: Pick<EventInput, 'type' | 'data'> & Partial<EventInput>): EventInput =>
  ({ id: `fleet-${++n}`, chargeBoxId, timestamp: now(), receivedAt: now(), source: 'station', ...rest }) as EventInput;
const status = (id: string, s: string): EventInput => input(id, { type: 'status', connectorId: 1, data: { status: s, errorCode: 'NoError', synthetic: false } });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  pg = await startPushGateway({ PUSH_FLEET_INTERVAL_MS: String(TICK_MS) });
  for (const id of ['FL_A', 'FL_B', 'FL_C']) {
    pg.gw.bus.emit('eventInput', input(id, { type: 'stationConnected', data: { linkKind: 'sim', upstream: 'local' } }));
    pg.gw.bus.emit('eventInput', status(id, 'Available'));
  }
});
afterAll(async () => {
  await pg?.close();
});

type FleetAck = { ok: true; stations: FleetEntry[]; intervalMs: number };

describe('fleet feed', () => {
  it('acks every station, then sends each changed station once per tick at its newest state, and no events', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const updates = collect<{ stations: FleetEntry[] }>(s, 'fleet');
    const events = collect<unknown>(s, 'event');
    const first = await ack<FleetAck>(s, 'fleet:subscribe');
    expect(first.intervalMs).toBe(TICK_MS);
    expect(first.stations.map((e) => e.chargeBoxId).sort()).toEqual(['FL_A', 'FL_B', 'FL_C']);
    expect(first.stations.find((e) => e.chargeBoxId === 'FL_A')).toMatchObject({
      online: true, linkKind: 'sim', upstream: 'local', status: 'Available', connectors: [{ connectorId: 1, status: 'Available', transactionId: null }],
    });
    expect(pg.push.stats().subscriptions.fleet).toBe(1);

    // Three changes of A and one of B within one tick: one message, each station once, A as it is now.
    await sleep(TICK_MS); // start right after a tick, so the burst falls within one
    for (const st of ['Preparing', 'Charging', 'SuspendedEV']) pg.gw.bus.emit('eventInput', status('FL_A', st));
    pg.gw.bus.emit('eventInput', status('FL_B', 'Faulted'));
    pg.gw.bus.emit('eventInput', input('FL_B', { type: 'finding', data: { rule: 'schema', message: 'bad timestamp' } }));
    await until(() => updates.length > 0, 3000, 'a fleet message');
    await sleep(TICK_MS * 2);
    const all = updates.flatMap((u) => u.stations);
    expect(all.filter((e) => e.chargeBoxId === 'FL_A')).toHaveLength(1);
    expect(all.find((e) => e.chargeBoxId === 'FL_A')?.status).toBe('SuspendedEV');
    expect(all.find((e) => e.chargeBoxId === 'FL_B')).toMatchObject({ status: 'Faulted', findings: [expect.any(String)] });
    expect(all.some((e) => e.chargeBoxId === 'FL_C')).toBe(false);
    expect(updates.length).toBeLessThanOrEqual(2);
    expect(events).toEqual([]);

    // Nothing changes: nothing is sent.
    const count = updates.length;
    await sleep(TICK_MS * 3);
    expect(updates).toHaveLength(count);

    // Unsubscribed: no more fleet messages.
    expect(await ack(s, 'fleet:unsubscribe')).toEqual({ ok: true });
    pg.gw.bus.emit('eventInput', status('FL_C', 'Charging'));
    await sleep(TICK_MS * 3);
    expect(updates).toHaveLength(count);
    s.disconnect();
  });

  it('gives a viewer only its own station, in the ack and in every message', async () => {
    const s = await connect(pg.url, { token: viewerToken(['FL_C']) });
    const updates = collect<{ stations: FleetEntry[] }>(s, 'fleet');
    const first = await ack<FleetAck>(s, 'fleet:subscribe');
    expect(first.stations.map((e) => e.chargeBoxId)).toEqual(['FL_C']);
    pg.gw.bus.emit('eventInput', status('FL_A', 'Finishing'));
    pg.gw.bus.emit('eventInput', status('FL_B', 'Available'));
    await sleep(TICK_MS * 3);
    expect(updates).toEqual([]);
    pg.gw.bus.emit('eventInput', status('FL_C', 'Preparing'));
    await until(() => updates.length > 0, 3000, 'the viewer\'s own station');
    expect(updates.flatMap((u) => u.stations).map((e) => [e.chargeBoxId, e.status])).toEqual([['FL_C', 'Preparing']]);
    s.disconnect();
  });
});
