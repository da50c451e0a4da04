// Test cases with `fault` steps in relay mode (the SteVe double upstream, a simulated station): an answer override
// lets a case that otherwise needs the embedded central system run beside SteVe, its frames count as the case's
// evidence, and the rule is gone when the case ends, whatever its verdict.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { explain, startRun, until, waitReport } from './helpers.js';

const STATION = 'FAULT-SIM';
let steve: SteveDouble;
let gw: TestGateway;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-fault-cases-'));
  mkdirSync(path.join(dir, 'faults'));
  writeFileSync(path.join(dir, 'faults', '1-blocked.yaml'), [
    'name: authorize-blocked-beside-steve',
    'title: A tag answered Blocked (by a fault rule) does not start a transaction',
    'spec: OCPP 1.6 §5.1 Authorize',
    'requires: [faults]',
    'steps:',
    '  - fault: { kind: answer, actions: [Authorize], answer: { idTagStatus: Blocked } }',
    '  - action: { type: plugIn, connectorId: 1 }',
    '  - action: { type: presentTag, connectorId: 1 }',
    '  - expect: Authorize',
    '    answer: { idTagInfo: { status: Blocked } }',
    '  - expectNone: StartTransaction',
    '    within: 5',
    'cleanup:',
    '  - action: { type: plugOut, connectorId: 1 }',
  ].join('\n'));
  // Expects the opposite of what the rule makes happen: fails, and the rule must still be removed.
  writeFileSync(path.join(dir, 'faults', '2-wrong.yaml'), [
    'name: expects-accepted',
    'title: fails on purpose',
    'spec: test of the runner',
    'requires: [faults]',
    'steps:',
    '  - fault: { kind: answer, actions: [Authorize], answer: { idTagStatus: Invalid }, persistent: true }',
    '  - action: { type: plugIn, connectorId: 1 }',
    '  - action: { type: presentTag, connectorId: 1 }',
    '  - expect: Authorize',
    '    answer: { idTagInfo: { status: Accepted } }',
    '    within: 5',
    'cleanup:',
    '  - action: { type: plugOut, connectorId: 1 }',
  ].join('\n'));
  steve = await startSteveDouble();
  gw = await startGateway({ STEVE_WS_URL: steve.url, CHARGER_TESTS_DIR: dir, SIM_BOOT_DELAY_MS: '200' }, { simClockSpeed: 5 });
  gw.sim.create({ id: STATION, autopilot: false });
  await until(() => gw.relay.stations().some((s) => s.chargeBoxId === STATION && s.upstream === 'open'), 20_000, 'the station');
});
afterAll(async () => {
  await gw?.stop();
  await steve?.close();
});

describe('fault steps in relay mode', () => {
  it('an answer override runs beside SteVe; the frames are the evidence; rules are removed after pass and fail', async () => {
    const report = await waitReport(gw, await startRun(gw, STATION, { suite: 'faults' }), 90_000);
    expect(report.mode).toBe('steve');
    expect(report.cases.map((c) => [c.name, c.verdict]), explain(report)).toEqual([
      ['authorize-blocked-beside-steve', 'pass'],
      ['expects-accepted', 'fail'],
    ]);
    const [blocked, wrong] = report.cases;
    expect(blocked!.evidence.some((e) => e.action === 'Authorize' && e.raw.includes('Blocked'))).toBe(true);
    expect(wrong!.reason).toMatch(/Invalid/);
    // SteVe never heard of the tag: the rule answered.
    expect(steve.received.filter((r) => r.chargeBoxId === STATION && r.frame[2] === 'Authorize')).toEqual([]);
    expect(gw.relay.faults.list(STATION)).toEqual([]);
  }, 120_000);
});
