// The heartbeat-interval conformance rule on real frames: a station over a real WebSocket that heartbeats too early
// and falls silent too long gets one finding each, a triggered heartbeat and an interval changed by
// ChangeConfiguration are followed; and the simulator's "ignores the heartbeat interval" firmware defect is caught
// while a healthy simulated station beside it (same fast clock) breaks nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import type { ConformanceFinding } from '../../src/events/conformance.js';

const BOOT = { chargePointVendor: 'Bench', chargePointModel: 'ESP32' };
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function findingsOf(gw: TestGateway, id: string, atLeast: number, ms = 10_000): Promise<ConformanceFinding[]> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await gw.getJson<{ findings: ConformanceFinding[] }>(`/api/conformance?chargeBoxId=${id}&rule=heartbeat.interval`);
    if (r.findings.length >= atLeast || Date.now() > end) return r.findings.reverse();
    await pause(50);
  }
}

async function putTestCs(gw: TestGateway, body: unknown): Promise<void> {
  const res = await fetch(`${gw.httpUrl}/api/test-cs`, { method: 'PUT', headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

describe('heartbeat.interval on a station over a real WebSocket (interval 1 s, slack 0.3 s)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ CONFORMANCE_HEARTBEAT_SLACK_S: '0.3' });
    await putTestCs(gw, { heartbeatInterval: 1 });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('flags a heartbeat far too early and a silence far too long; a triggered one and a new interval are honoured', async () => {
    const st = await connectStation(gw.wsUrl('HB-WS'), { autoAnswer: false });
    // The station answers the gateway's calls Accepted, like a board that takes them.
    st.ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as unknown[];
      if (f[0] === 2) st.ws.send(JSON.stringify([3, f[1], { status: 'Accepted' }]));
    });
    const operatorCall = async (action: string, payload: unknown): Promise<void> => {
      const res = await fetch(`${gw.httpUrl}/api/stations/HB-WS/calls`, { method: 'POST', headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: JSON.stringify({ action, payload }) });
      expect(res.status).toBe(200);
    };
    try {
      expect((await st.call('BootNotification', BOOT))[2]).toMatchObject({ status: 'Accepted', interval: 1 });
      await st.call('Heartbeat', {});
      await st.call('Heartbeat', {}); // at once: far too early
      // Asked for by TriggerMessage: an extra heartbeat is no fault.
      await operatorCall('TriggerMessage', { requestedMessage: 'Heartbeat' });
      await st.call('Heartbeat', {});
      await pause(2300); // more than 1.5 × 1 s + 0.3 s without a word
      await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
      // The central system moves the interval to 5 s: 2.3 s of silence is fine now.
      await operatorCall('ChangeConfiguration', { key: 'HeartbeatInterval', value: '5' });
      await pause(2300);
      await st.call('Heartbeat', {});
      await pause(300); // the observer reads the log after the frame
      const found = await findingsOf(gw, 'HB-WS', 2);
      expect(found.map((f) => f.message)).toEqual([
        expect.stringMatching(/^Heartbeat 0\.\d s after the previous one; the heartbeat interval is 1 s$/),
        expect.stringMatching(/^StatusNotification after [23] s without any call; the heartbeat interval is 1 s$/),
      ]);
      // Each finding cites the frame that broke the rule.
      const log = await gw.getJson<{ entries: { id: number; action?: string; messageType?: string; leg: string }[] }>('/api/messages?chargeBoxId=HB-WS&limit=100');
      const status = log.entries.find((e) => e.action === 'StatusNotification' && e.messageType === 'CALL' && e.leg === 'station');
      expect(found[1]!.logId).toBe(status!.id);
    } finally {
      st.close();
    }
  });
});

describe('heartbeat.interval on simulated stations (embedded mode, clock ×10)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ SIM_BOOT_DELAY_MS: '200' }, { simClockSpeed: 10 });
    await putTestCs(gw, { heartbeatInterval: 5 });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('the faulty firmware that ignores the boot answer\'s interval is caught; the healthy one is not', async () => {
    // Both keep HeartbeatInterval 30 until a central system says otherwise; the boot answer says 5.
    gw.sim.create({ id: 'HB-SIM-OK', autopilot: false, config: { HeartbeatInterval: '30' } });
    gw.sim.create({ id: 'HB-SIM-BAD', autopilot: false, config: { HeartbeatInterval: '30' }, defects: ['ignoresHeartbeatInterval'] });
    const bad = await findingsOf(gw, 'HB-SIM-BAD', 1, 15_000);
    expect(bad[0]?.message).toMatch(/^Heartbeat after (29|30|31) s without any call; the heartbeat interval is 5 s$/);
    expect(await findingsOf(gw, 'HB-SIM-OK', 1, 0)).toEqual([]);
    const ok = await gw.getJson<{ entries: { action?: string; leg: string; messageType?: string }[] }>('/api/messages?chargeBoxId=HB-SIM-OK&limit=200');
    expect(ok.entries.filter((e) => e.action === 'Heartbeat' && e.leg === 'station' && e.messageType === 'CALL').length).toBeGreaterThanOrEqual(5);
  }, 30_000);
});
