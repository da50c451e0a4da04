// The security suite's AuthorizationKey rotation against a simulated station over a real WebSocket with HTTP Basic
// auth (profile 1): the station takes the gateway's fresh key, reconnects with it at once (as MicroOcpp does), the
// case passes on that new connection, and from then on the old password no longer opens the station.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { startSim, type SimHarness } from '../sim/helpers.js';
import { explain, startRun, until, waitReport } from './helpers.js';

const ID = 'KEY-SIM';
const OLD = 'factory-password-0001';
let gw: TestGateway;
let h: SimHarness;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-keysim-'));
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ stations: { [ID]: { password: OLD } } }));
  gw = await startGateway({ CONFIG_FILE: configFile, REQUIRE_STATION_AUTH: 'true' });
  h = startSim({ target: `ws://127.0.0.1:${gw.port}/ocpp`, speed: 1, limits: { reconnectMinMs: 200, reconnectMaxMs: 1000 }, stations: [{ id: ID, autopilot: false, password: OLD }] });
  await h.sim.start();
  await until(() => gw.relay.stations().some((s) => s.chargeBoxId === ID && s.upstream === 'local'), 20_000, 'the station');
});
afterAll(async () => {
  await h?.sim.stop();
  await gw?.stop();
});

describe('authorization-key-rotation on a simulated station over WebSocket with station auth', () => {
  it('passes on the connection made with the new key; the old password is refused afterwards', async () => {
    const connectsBefore = h.log.filter((r) => r.station === ID && r.dir === 'connect').length;
    const report = await waitReport(gw, await startRun(gw, ID, { suite: 'security', cases: ['authorization-key-rotation'] }), 60_000);
    expect(report.cases[0]!.verdict, explain(report)).toBe('pass');
    // It reconnected (once) in between: the TriggerMessage went over the new connection.
    expect(h.log.filter((r) => r.station === ID && r.dir === 'connect').length).toBe(connectsBefore + 1);
    // The key appears nowhere in the report; the message log has it redacted.
    expect(JSON.stringify(report)).not.toMatch(/"value":"[0-9a-f]{24}"/);
    const refused = await connectStation(gw.wsUrl(ID), { headers: { authorization: `Basic ${Buffer.from(`${ID}:${OLD}`).toString('base64')}` } }).catch((e: { status?: number }) => e);
    expect(refused).toMatchObject({ status: 401 });
  }, 90_000);
});
