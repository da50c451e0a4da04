// The gateway's own calls (operator commands) over real sockets: what the caller hears when a side drops while a
// call is pending or queued, and message ids that stay unique across gateway restarts.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { ack, connect, operatorToken, SECRET, until } from '../push/support/harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string> = {}): Promise<{ steve: SteveDouble; gw: TestGateway }> {
  const steve = await startSteveDouble({ getConfigurationOnConnect: false });
  cleanups.push(() => steve.close());
  const gw = await startGateway({ STEVE_WS_URL: steve.url, JWT_SECRET: SECRET, CALL_TIMEOUT_MS: '20000', ...env });
  cleanups.push(() => gw.stop());
  return { steve, gw };
}

/** A station that never answers the gateway's calls (so they stay pending); its upstream is open. */
async function silentStation(gw: TestGateway, id: string): Promise<StationClient> {
  const st = await connectStation(gw.wsUrl(id), { autoAnswer: false });
  cleanups.push(() => st.close());
  await st.call('Heartbeat', {});
  return st;
}

function postCall(gw: TestGateway, id: string, action: string, payload: unknown): Promise<Response> {
  return fetch(`${gw.httpUrl}/api/stations/${id}/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...gw.authHeader() },
    body: JSON.stringify({ action, payload }),
  });
}

describe('a side drops while an own call is pending or queued', () => {
  it('REST: the station closes with one call pending and one queued behind it: both 503 disconnected/station', async () => {
    const { gw } = await setup();
    const st = await silentStation(gw, 'CP-drop');
    const started = Date.now();
    const pending = postCall(gw, 'CP-drop', 'ClearCache', {});
    await st.waitFor((f) => f[0] === 2 && f[2] === 'ClearCache', 10_000);
    const queued = postCall(gw, 'CP-drop', 'TriggerMessage', { requestedMessage: 'Heartbeat' });
    await until(() => gw.relay.stations()[0]?.pendingCalls.toStation === 1, 5000, 'first call in flight');
    await new Promise((r) => setTimeout(r, 100)); // the second request reaches the relay's queue
    st.ws.close(1000, 'bye');
    for (const res of [await pending, await queued]) {
      expect(res.status).toBe(503);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        chargeBoxId: 'CP-drop',
        outcome: { kind: 'disconnected', side: 'station', reason: expect.any(String) },
        error: { code: 'GW_ERR_STATION_DISCONNECTED', message: expect.stringMatching(/station/) },
      });
    }
    // Answered when the link went, not after the call timeout (20 s).
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(st.received.some((f) => f[2] === 'TriggerMessage')).toBe(false);
  });

  it('the upstream closes: disconnected/upstream', async () => {
    const { steve, gw } = await setup();
    const st = await silentStation(gw, 'CP-up');
    const own = gw.relay.call('CP-up', 'ClearCache', {});
    await st.waitFor((f) => f[0] === 2 && f[2] === 'ClearCache', 10_000);
    steve.sockets.get('CP-up')!.close(1011, 'SteVe went away');
    expect(await own).toMatchObject({ kind: 'disconnected', side: 'upstream' });
  });

  it('a new connection replaces the station, and the gateway shuts down: disconnected/gateway', async () => {
    const { gw } = await setup();
    const st = await silentStation(gw, 'CP-rep');
    const own = gw.relay.call('CP-rep', 'ClearCache', {});
    await st.waitFor((f) => f[0] === 2 && f[2] === 'ClearCache', 10_000);
    const second = await silentStation(gw, 'CP-rep');
    expect(await own).toMatchObject({ kind: 'disconnected', side: 'gateway', reason: expect.stringMatching(/replaced/) });

    const last = gw.relay.call('CP-rep', 'ClearCache', {});
    await second.waitFor((f) => f[0] === 2 && f[2] === 'ClearCache', 10_000);
    gw.relay.closeAll(1001, 'gateway shutting down');
    expect(await last).toEqual({ kind: 'disconnected', side: 'gateway', reason: 'gateway shutting down' });
  });

  it('Socket.IO: the call ack says disconnected/station', async () => {
    const { gw } = await setup();
    const st = await silentStation(gw, 'CP-io');
    const s = await connect(gw.httpUrl, { token: operatorToken() });
    cleanups.push(() => void s.close());
    const answer = ack<unknown>(s, 'call', { chargeBoxId: 'CP-io', action: 'ClearCache', payload: {} });
    await st.waitFor((f) => f[0] === 2 && f[2] === 'ClearCache', 10_000);
    st.ws.close(1000, 'bye');
    expect(await answer).toMatchObject({ ok: true, outcome: { kind: 'disconnected', side: 'station' } });
  });
});

describe('the queue of own calls is bounded', () => {
  it('beyond 1 MiB of calls waiting for one station, more are refused with 429 GW_ERR_CALL_QUEUE_FULL; the queued ones go on', async () => {
    const { gw } = await setup();
    const st = await silentStation(gw, 'CP-full');
    const blob = (i: number) => ({ vendorId: 'bench', messageId: `m${i}`, data: 'q'.repeat(200_000) });
    const first = postCall(gw, 'CP-full', 'DataTransfer', blob(0)); // in flight: not counted against the queue
    await st.waitFor((f) => f[0] === 2 && f[2] === 'DataTransfer', 10_000);
    const queued = [1, 2, 3, 4, 5].map((i) => postCall(gw, 'CP-full', 'DataTransfer', blob(i))); // ~1,000,000 bytes
    await new Promise((r) => setTimeout(r, 300));
    const refused = await postCall(gw, 'CP-full', 'DataTransfer', blob(6));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'GW_ERR_CALL_QUEUE_FULL', message: expect.stringContaining('CP-full') } });
    // Nothing was lost: the station still gets the queued calls, in order, as it answers.
    for (let i = 0; i <= 5; i++) {
      const call = await st.waitFor((f) => f[0] === 2 && (f[3] as { messageId?: string }).messageId === `m${i}`, 10_000);
      st.sendRaw(JSON.stringify([3, call[1], { status: 'Accepted' }]));
    }
    for (const res of [await first, ...(await Promise.all(queued))]) expect(res.status).toBe(200);
    expect(st.received.some((f) => (f[3] as { messageId?: string } | undefined)?.messageId === 'm6')).toBe(false);
  });
});

describe('own call message ids', () => {
  it('never repeat across a restart on the same DATA_DIR, and fit in 36 characters', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-own-ids-'));
    const ids: string[] = [];
    for (let boot = 0; boot < 2; boot++) {
      const { gw } = await setup({ DATA_DIR: dataDir });
      const st = await connectStation(gw.wsUrl('CP-ids'));
      cleanups.push(() => st.close());
      await st.call('Heartbeat', {});
      for (let i = 0; i < 3; i++) {
        expect(await gw.relay.call('CP-ids', 'ClearCache', {})).toMatchObject({ kind: 'result' });
      }
      ids.push(...st.received.filter((f) => f[0] === 2 && f[2] === 'ClearCache').map((f) => String(f[1])));
      for (const c of cleanups.splice(0).reverse()) await c();
    }
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    for (const id of ids) {
      expect(id.length).toBeLessThanOrEqual(36);
      expect(id).toMatch(/^cb-/);
    }
  });
});
