// Maps keyed by wire text stay bounded: a station inventing action names does not grow the metrics' label set,
// and one reporting hundreds of connector ids or sample kinds does not grow its state without end.
import { afterEach, describe, expect, it } from 'vitest';
import { OTHER_ACTION } from '../../src/metrics/relay-metrics.js';
import { isOcpp16Action } from '../../src/ocpp/validate.js';
import { startGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('wire-keyed maps', () => {
  it('caps action labels of chargebridge_frames_total and connectors / sample kinds in the station state', async () => {
    const gw = await startGateway();
    cleanups.push(() => gw.stop());
    const st = await connectStation(gw.wsUrl('CP-CARD'));
    cleanups.push(() => st.close());
    for (let i = 0; i < 300; i++) st.sendRaw(JSON.stringify([2, `a${i}`, `Invented${i}`, {}]));
    await st.waitFor((f) => f[1] === 'a299', 20_000);
    const now = new Date().toISOString();
    for (let c = 1; c <= 200; c++) st.sendRaw(JSON.stringify([2, `s${c}`, 'StatusNotification', { connectorId: c, errorCode: 'NoError', status: 'Available', timestamp: now }]));
    const sampledValue = Array.from({ length: 200 }, (_, i) => ({ value: '1', measurand: `Kind${i}` }));
    st.sendRaw(JSON.stringify([2, 'mv', 'MeterValues', { connectorId: 1, meterValue: [{ timestamp: now, sampledValue }] }]));
    await st.waitFor((f) => f[1] === 'mv', 20_000);

    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    const actions = new Set([...metrics.matchAll(/^chargebridge_frames_total\{[^}]*action="([^"]*)"/gm)].map((m) => m[1]));
    expect([...actions].filter((a) => a !== '' && a !== OTHER_ACTION && !isOcpp16Action(a ?? ''))).toEqual([]);
    expect(actions.has(OTHER_ACTION)).toBe(true);

    let state: { connectors: unknown[]; meter?: Record<string, unknown> } | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const read = await gw.getJson<{ connectors: unknown[] }>('/api/stations/CP-CARD/state');
      state = read;
      if (read.connectors.length >= 64) break;
    }
    expect(state?.connectors.length).toBe(64);
    for (const deadline = Date.now() + 10_000; !gw.events.state.snapshot('CP-CARD')?.meter.length && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    expect(gw.events.state.snapshot('CP-CARD')?.meter[0]?.samples).toHaveLength(64);
  }, 60_000);
});
