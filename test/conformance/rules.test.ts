// Passive conformance through a real gateway (embedded mode) and a real station WebSocket: each rule fires on the
// frame that breaks it, with that frame's message-log id, and stays quiet for the legal variants.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import type { ConformanceFinding } from '../../src/events/conformance.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ CONFORMANCE_MAX_SKEW_S: '60' });
});
afterAll(async () => {
  await gw?.stop();
});

const BOOT = { chargePointVendor: 'Bench', chargePointModel: 'ESP32' };
const iso = (offsetMs = 0): string => new Date(Date.now() + offsetMs).toISOString();

async function findings(id: string, expected: number): Promise<ConformanceFinding[]> {
  const end = Date.now() + 10_000;
  for (;;) {
    const r = await gw.getJson<{ findings: ConformanceFinding[] }>(`/api/conformance?chargeBoxId=${id}`);
    if (r.findings.length >= expected || Date.now() > end) return r.findings.reverse();
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function logIdOf(id: string, action: string): Promise<number> {
  const page = await gw.getJson<{ entries?: { id: number; action?: string; leg: string; messageType?: string }[] }>(`/api/messages?chargeBoxId=${id}&limit=500`);
  const e = (page.entries ?? []).filter((x) => x.action === action && x.leg === 'station' && x.messageType === 'CALL');
  return e[e.length - 1]!.id;
}

describe('passive conformance', () => {
  it('flags calls other than BootNotification while the boot is Pending, and nothing once it is Accepted', async () => {
    const put = (status: string) => fetch(`${gw.httpUrl}/api/test-cs`, { method: 'PUT', headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: JSON.stringify({ boot: { status, interval: 5 } }) });
    await put('Pending');
    const st = await connectStation(gw.wsUrl('CONF-BOOT'));
    try {
      expect((await st.call('BootNotification', BOOT))[2]).toMatchObject({ status: 'Pending' });
      await st.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available' });
      await put('Accepted');
      expect((await st.call('BootNotification', BOOT))[2]).toMatchObject({ status: 'Accepted' });
      await st.call('Heartbeat', {});
      const found = await findings('CONF-BOOT', 1);
      expect(found.map((f) => [f.rule, f.message])).toEqual([['boot.notAccepted', 'StatusNotification sent while the boot is Pending']]);
      expect(found[0]!.logId).toBe(await logIdOf('CONF-BOOT', 'StatusNotification'));
    } finally {
      st.close();
    }
  });

  it('flags meterStop below meterStart, MeterValues for a closed transaction and a clock in the future', async () => {
    const st = await connectStation(gw.wsUrl('CONF-TX'));
    try {
      await st.call('BootNotification', BOOT);
      // An old timestamp on a transaction message is legal: it may come from the offline queue.
      const start = (await st.call('StartTransaction', { connectorId: 1, idTag: 'T', meterStart: 1000, timestamp: iso(-3_600_000) }))[2] as { transactionId: number };
      await st.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [{ timestamp: iso(), sampledValue: [{ value: '1100' }] }] });
      await st.call('StopTransaction', { transactionId: start.transactionId, meterStop: 900, timestamp: iso() });
      await st.call('MeterValues', { connectorId: 1, transactionId: start.transactionId, meterValue: [{ timestamp: iso(), sampledValue: [{ value: '1100' }] }] });
      await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: iso(3_600_000) });
      const found = await findings('CONF-TX', 3);
      expect(found.map((f) => f.rule)).toEqual(['stopTransaction.meterStopBelowStart', 'meterValues.closedTransaction', 'timestamp.skew']);
      expect(found[0]!.message).toBe(`meterStop 900 < meterStart 1000 of transaction ${start.transactionId}`);
      expect(found[2]!.message).toMatch(/StatusNotification timestamp .* is 3600 s ahead of the gateway's clock/);
      const r = await gw.getJson<{ rules: { rule: string }[]; total: number }>('/api/conformance?rule=timestamp.skew');
      expect(r.rules.map((x) => x.rule)).toContain('boot.notAccepted');
      const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
      expect(metrics).toMatch(/chargebridge_conformance_findings_total\{rule="timestamp.skew"\} 1/);
    } finally {
      st.close();
    }
  });

  it('is for operators', async () => {
    expect((await fetch(`${gw.httpUrl}/api/conformance`, { headers: gw.authHeader('viewer', ['CONF-TX']) })).status).toBe(403);
  });
});
