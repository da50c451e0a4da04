// Fault rules in scenario files: the schema names a bad rule's field (and agrees with the gateway's own parser on
// good ones), and a scenario run sets and clears rules on a real gateway over REST with an operator token, as
// `npm run sim` does (scripts/sim.ts only adds TOKEN and --gateway to this).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import path from 'node:path';
import { loadScenario, parseScenario } from '../../src/sim/scenario.js';
import { formatResult, runScenario } from '../../src/sim/scenario-run.js';
import { gatewayOf, restFaults } from '../../src/sim/scenario-faults.js';
import { parseFaultRule } from '../../src/relay/faults/index.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startSim } from './helpers.js';
const withFault = (rule: unknown): string => JSON.stringify({ name: 'f', stations: [{ id: 'A' }], steps: [{ sleep: 1 }, { fault: rule }] });

describe('fault steps in the scenario schema', () => {
  test('a bad rule is refused with the step and the field', () => {
    const refused = (rule: unknown): string => {
      try {
        parseScenario(withFault(rule), 'json');
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ kind: 'delay' })).toBe("scenario does not match the schema: steps[1].fault: must have required property 'delay'");
    expect(refused({ kind: 'drop', rate: 2 })).toBe('scenario does not match the schema: steps[1].fault/rate must be <= 1');
    expect(refused({ kind: 'drop', copies: 2 })).toMatch(/^scenario does not match the schema: steps\[1\]\.fault.* must be equal to one of the allowed values/);
    expect(refused({ kind: 'stall', durationS: 5 })).toBe("scenario does not match the schema: steps[1].fault: must have required property 'direction'");
    expect(refused({ kind: 'cut', code: 1005 })).toBe('scenario does not match the schema: steps[1].fault/code must NOT be valid');
    expect(refused({ kind: 'answer', actions: ['Authorize'], answer: { idTagStatus: 'Stolen' } })).toMatch(/steps\[1\]\.fault\/answer/);
    expect(refused({ kind: 'flood' })).toMatch(/steps\[1\]\.fault\/kind must be equal to one of the allowed values/);
    expect(() => parseScenario(JSON.stringify({ name: 'f', stations: [{ id: 'A' }], steps: [{ clearFaults: 'some' }] }), 'json')).toThrow(/schema/);
  });

  test('the example scenarios/flaky-link.yaml loads', () => {
    const s = loadScenario(path.resolve(import.meta.dirname, '../../scenarios/flaky-link.yaml'));
    expect(s.steps.filter((st) => 'fault' in st)).toHaveLength(2);
  });

  test('the rules it takes are rules the gateway takes', () => {
    const good = [
      { kind: 'drop', direction: 'toUpstream', actions: ['MeterValues'], rate: 0.33, seed: 7 },
      { kind: 'delay', delay: { min: 100, max: 900 }, messageTypes: ['CALLRESULT'] },
      { kind: 'duplicate', copies: 2 },
      { kind: 'reorder', window: 3, maxHoldMs: 500, durationS: 30 },
      { kind: 'corrupt', mode: 'truncate', actions: ['StatusNotification'] },
      { kind: 'stall', direction: 'toStation', durationS: 10 },
      { kind: 'upstreamDown', mode: 'silent', durationS: 40 },
      { kind: 'answer', actions: ['BootNotification'], answer: { bootStatus: 'Pending', interval: 5 } },
      { kind: 'answer', actions: ['Authorize'], mode: 'replace', answer: { idTagStatus: 'Blocked' }, persistent: true },
      { kind: 'answer', actions: ['DataTransfer'], answer: { callError: { code: 'NotSupported' } } },
      { kind: 'answer', actions: ['Heartbeat'], answer: { none: true } },
      { kind: 'cut', abrupt: true },
    ];
    for (const rule of good) {
      expect(() => parseScenario(withFault(rule), 'json'), JSON.stringify(rule)).not.toThrow();
      expect(() => parseFaultRule(rule), JSON.stringify(rule)).not.toThrow();
    }
  });
});

describe('a scenario sets and clears fault rules on the gateway (embedded mode, clock ×10)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test('every tag Blocked while the rule is set, charging once it is cleared; its rules are gone at the end', async () => {
    const scenario = parseScenario(`
name: faults
speed: 10
stations: [{ id: SCF-1, autopilot: false }]
steps:
  - waitFor: booted
    timeout: 60
  - fault: { kind: answer, actions: [Authorize], answer: { idTagStatus: Blocked } }
    label: every tag Blocked
  - action: { type: start }
  - sleep: 10
  - clearFaults: true
  - action: { type: presentTag }
  - waitFor: charging
    timeout: 60
  - fault: { kind: drop, direction: toUpstream, actions: [MeterValues], durationS: 600 }
    label: meter values lost
`, 'yaml');
    const token = gw.authHeader('operator').authorization.slice('Bearer '.length);
    const target = `ws://127.0.0.1:${gw.port}/ocpp`;
    expect(gatewayOf(target)).toBe(gw.httpUrl);
    const h = startSim({ target, speed: 10, stations: [...scenario.stations] });
    await h.sim.start();
    let result;
    try {
      result = await runScenario(scenario, h.sim, { faults: restFaults(gatewayOf(target), token), timeScale: 10 });
    } finally {
      await h.sim.stop();
    }
    const stdout = formatResult(result);
    expect(stdout).toMatch(/scenario "faults": PASSED/);
    expect(stdout).toMatch(/ok {3}every tag Blocked/);
    expect(stdout).toMatch(/ok {3}meter values lost/);
    // The Blocked answer was the rule's; the Accepted one after clearFaults the central system's.
    const injected = await gw.getJson<{ entries: { action?: string; fault?: { kind: string } }[] }>('/api/messages?chargeBoxId=SCF-1&disposition=injected&limit=100');
    expect(injected.entries.some((e) => e.action === 'Authorize' && e.fault?.kind === 'answer')).toBe(true);
    const starts = await gw.getJson<{ entries: { action?: string; messageType?: string; leg: string }[] }>('/api/messages?chargeBoxId=SCF-1&limit=500');
    expect(starts.entries.filter((e) => e.action === 'StartTransaction' && e.messageType === 'CALL' && e.leg === 'station')).toHaveLength(1);
    // The scenario removed what it set (the drop rule outlived no run).
    expect((await gw.getJson<{ rules: unknown[] }>('/api/stations/SCF-1/faults')).rules).toEqual([]);
  }, 60_000);

  test('a fault step the gateway refuses fails the scenario with its reason; without a gateway it fails too', async () => {
    const scenario = parseScenario(JSON.stringify({ name: 'x', stations: [{ id: 'SCF-NONE' }], steps: [{ fault: { kind: 'drop' } }] }), 'json');
    const h = startSim({ target: `ws://127.0.0.1:${gw.port}/ocpp`, speed: 10, stations: [] });
    const token = gw.authHeader('operator').authorization.slice('Bearer '.length);
    // The station never connected: the gateway answers 409.
    const refused = await runScenario(scenario, h.sim, { faults: restFaults(gw.httpUrl, token) });
    expect(refused.ok).toBe(false);
    expect(refused.steps[0]!.detail).toMatch(/^1 of 1 refused the rule \(SCF-NONE: HTTP 409: /);
    const viewer = await runScenario(scenario, h.sim, { faults: restFaults(gw.httpUrl, gw.authHeader('viewer', ['SCF-NONE']).authorization.slice(7)) });
    expect(viewer.steps[0]!.detail).toMatch(/HTTP 403/);
    const none = await runScenario(scenario, h.sim, {});
    expect(none.steps[0]!.detail).toMatch(/no gateway to set fault rules on/);
  });
});
