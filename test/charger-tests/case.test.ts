// The case format: what a case file may say, the errors a bad one gets, and how payloads are matched.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaseError, parseCase } from '../../src/charger-tests/case.js';
import { loadSuite } from '../../src/charger-tests/catalogue.js';
import { mismatch, readPath, substitute } from '../../src/charger-tests/match.js';
import { CHECKS } from '../../src/charger-tests/checks.js';
import { toJUnit } from '../../src/charger-tests/report/junit.js';
import { summarize, type RunReport } from '../../src/charger-tests/result.js';

const head = 'name: c1\ntitle: T\nspec: OCPP 1.6 §1\n';
const parse = (steps: string, extra = ''): ReturnType<typeof parseCase> => parseCase(`${head}${extra}steps:\n${steps}`, 'x.yaml');

describe('parseCase', () => {
  it('reads every step kind, with defaults and labels', () => {
    const c = parse([
      '  - call: Reset', '    payload: { type: Hard }', '    result: { status: Accepted }',
      '  - expect: BootNotification', '    answer: { status: Accepted }', '    capture: { t: answer.currentTime }',
      '  - expectNone: "*"', '    except: [BootNotification]',
      '  - testCs: { boot: { status: Pending, interval: 5 } }',
      '  - ask: Plug in', '    sim: { type: plugIn }',
      '  - action: { type: plugOut, connectorId: 1 }',
      '  - sleep: 2',
      '  - fault: { kind: upstreamDown, mode: silent, durationS: 40 }',
    ].join('\n'), 'requires: [embedded, faults]\n');
    expect(c.steps.map((s) => s.kind)).toEqual(['call', 'expect', 'expectNone', 'testCs', 'ask', 'ask', 'sleep', 'fault']);
    expect(c.steps[7]).toMatchObject({ fault: { kind: 'upstreamDown', mode: 'silent', durationS: 40 } });
    expect(c.steps[1]).toMatchObject({ within: 10, count: 1, anyOrder: false, label: 'expect BootNotification' });
    expect(c.steps[5]).toMatchObject({ prompt: 'Unplug the vehicle cable on connector 1', sim: { type: 'plugOut', connectorId: 1 }, timeout: 120 });
    expect(c.profile).toBe('Core');
  });

  it('says which file, step and field is wrong', () => {
    const bad = (steps: string, extra = ''): string => {
      try {
        parse(steps, extra);
      } catch (err) {
        expect(err).toBeInstanceOf(CaseError);
        return (err as Error).message;
      }
      throw new Error('parsed');
    };
    expect(bad('  - wait: 3')).toBe('x.yaml steps[0]: a step needs exactly one of call, expect, expectNone, testCs, ask, action, sleep, fault');
    expect(bad('  - expect: Heartbeat\n    withn: 3')).toMatch(/x\.yaml steps\[0\]: unknown field "withn"/);
    expect(bad('  - expect: Heartbeat\n    spacing: [3, 1]\n    count: 3')).toMatch(/"spacing" must be \[min, max\] seconds/);
    expect(bad('  - testCs: { boot: { status: Later } }', 'requires: [embedded]\n')).toMatch(/testCs\.boot\.status must be one of Accepted, Pending, Rejected/);
    expect(bad('  - testCs: { heartbeatInterval: 5 }')).toMatch(/must list "embedded" in requires/);
    expect(bad('  - fault: { kind: drop }')).toMatch(/must list "faults" in requires/);
    expect(bad('  - fault: { kind: drop, rate: 3 }', 'requires: [faults]\n')).toMatch(/steps\[0\]: "fault": rate: must be a number from 0 to 1/);
    expect(bad('  - fault: { kind: stall, direction: toStation }', 'requires: [faults]\n')).toMatch(/"fault": durationS: a stall needs durationS/);
    expect(bad('  - expect: MeterValues\n    count: 3\n    spacingFrom: payload.meterValue.0.timestamp')).toMatch(/"spacingFrom" needs "spacing"/);
    expect(bad('  - action: { type: dance }')).toMatch(/"action": \/type must be equal to one of the allowed values/);
    expect(bad('  - call: ClearCache\n    capture: { x: answer.status }')).toMatch(/capture\.x must be a path starting with result/);
    expect(bad('  - call: Reset\n    payload: { type: Warm }')).toMatch(/steps\[0\]: "payload": Reset\.req \/type: must be equal to one of the allowed values/);
    expect(() => parseCase('name: Bad Name\ntitle: t\nspec: s\nsteps: [{ sleep: 1 }]', 'y.yaml')).toThrow(/y\.yaml: "name" must be lower-case/);
  });

  it('loads every shipped suite, every case citing its specification, each suite one feature profile', () => {
    const dir = path.resolve(import.meta.dirname, '../../charger-tests');
    expect(loadSuite(dir, 'core').length).toBeGreaterThanOrEqual(18);
    const profiles: Record<string, string[]> = {
      core: ['Core', 'flashCharge'], 'remote-trigger': ['RemoteTrigger'], reservation: ['Reservation'],
      'local-auth-list': ['LocalAuthListManagement'], 'smart-charging': ['SmartCharging'], security: ['Security'],
    };
    for (const [suite, allowed] of Object.entries(profiles)) {
      for (const c of loadSuite(dir, suite)) {
        expect(c.spec, c.name).toMatch(/OCPP 1\.6|flashCharge/);
        expect(allowed, `${suite}/${c.name}`).toContain(c.profile);
      }
    }
    // "all" is the whole catalogue, names unique across suites.
    expect(loadSuite(dir, 'all').length).toBe(Object.keys(profiles).reduce((n, suite) => n + loadSuite(dir, suite).length, 0));
  });

  it('${now+N} is a time N station seconds after the case started', () => {
    const vars = new Map([['now', '2026-01-01T00:00:00.000Z']]);
    expect(substitute({ a: '${now+90}', b: '${now-1}', c: 'x${now+1}' }, vars)).toEqual({ a: '2026-01-01T00:01:30.000Z', b: '2025-12-31T23:59:59.000Z', c: 'x${now+1}' });
  });
});

describe('matching', () => {
  it('matches objects partially, lists by element, and the operators', () => {
    expect(mismatch({ status: 'Accepted' }, { status: 'Accepted', interval: 3 })).toBeUndefined();
    expect(mismatch({ idTagInfo: { status: 'Invalid' } }, { idTagInfo: { status: 'Accepted' } })).toBe('idTagInfo.status is "Accepted", expected "Invalid"');
    expect(mismatch({ unknownKey: ['K'] }, { unknownKey: ['A', 'K'] })).toBeUndefined();
    expect(mismatch({ unknownKey: ['K'] }, {})).toBe('unknownKey is undefined, expected a list');
    expect(mismatch({ s: { $oneOf: ['A', 'B'] } }, { s: 'C' })).toMatch(/expected one of/);
    expect(mismatch({ n: { $gte: 5 } }, { n: '7' })).toBeUndefined();
    expect(mismatch({ x: { $exists: false } }, { x: 1 })).toMatch(/should be absent/);
    expect(mismatch({ k: { $not: [{ key: 'K' }] } }, { k: [{ key: 'K' }] })).toMatch(/expected anything else/);
    // Inherited names are not properties of the payload.
    expect(mismatch({ constructor: { $exists: true } }, {})).toMatch(/constructor is missing/);
  });

  it('substitutes captured variables with their type and reads paths with indexes', () => {
    const vars = new Map<string, unknown>([['tx', 42]]);
    expect(substitute({ transactionId: '${tx}', note: 'tx ${tx}' }, vars)).toEqual({ transactionId: 42, note: 'tx ${tx}' });
    expect(() => substitute({ a: '${nope}' }, vars)).toThrow(/\$\{nope\} has not been captured/);
    expect(readPath({ result: { configurationKey: [{ value: '5' }] } }, 'result.configurationKey.0.value')).toBe('5');
    expect(readPath({ result: {} }, 'result.__proto__.x')).toBeUndefined();
  });
});

describe('JUnit', () => {
  it('maps fail, inconclusive and not applicable and escapes frames', () => {
    const mk = (name: string, verdict: 'pass' | 'fail' | 'inconclusive' | 'not_applicable') => ({
      name, title: name, spec: 'OCPP 1.6 §x', profile: 'Core', verdict, reason: `${verdict} <&>`, steps: [], startedAt: '', ms: 1000,
      evidence: [{ logId: 7, time: 't', flow: 'station→cs', raw: '[2,"a","X",{"s":"<&\u0001>"}]' }],
    });
    const cases = [mk('a', 'pass'), mk('b', 'fail'), mk('c', 'inconclusive'), mk('d', 'not_applicable')];
    const report: RunReport = { runId: 'r', chargeBoxId: 'CP<1>', suite: 'core', mode: 'local', timeScale: 1, state: 'finished', startedAt: 'now', cases, queued: [], summary: summarize(cases) };
    const xml = toJUnit(report);
    expect(xml).toMatch(/tests="4" failures="1" errors="1" skipped="1"/);
    expect(xml).toContain('<failure message="fail &lt;&amp;&gt;" type="fail">');
    expect(xml).toContain('<error message="inconclusive &lt;&amp;&gt;" type="inconclusive">');
    expect(xml).toContain('<skipped message="not_applicable &lt;&amp;&gt;"/>');
    expect(xml).toContain('#7 t station→cs [2,&quot;a&quot;,&quot;X&quot;,{&quot;s&quot;:&quot;&lt;&amp;&gt;&quot;}]');
    expect(xml).toContain('name="core on CP&lt;1&gt;"');
  });
});

describe('checks', () => {
  const mv = (logId: number, values: Record<string, string>, extra: Record<string, unknown> = { transactionId: 1 }) => ({
    logId, atUs: logId, action: 'MeterValues', messageId: String(logId),
    payload: { connectorId: 1, ...extra, meterValue: [{ timestamp: 't', sampledValue: Object.entries(values).map(([measurand, value]) => ({ measurand, value, unit: measurand === 'Energy.Active.Import.Register' ? 'Wh' : undefined })) }] },
  });
  const run = (name: string, matched: unknown[], calls: unknown[] = []) => CHECKS.get(name)!(matched as never, { calls: calls as never });

  it('catch a register that goes back, P far from U × I, SoC out of range, a missing transactionId', () => {
    expect(run('energyMonotonic', [mv(1, { 'Energy.Active.Import.Register': '100' }), mv(2, { 'Energy.Active.Import.Register': '150' })])).toBeUndefined();
    expect(run('energyMonotonic', [mv(1, { 'Energy.Active.Import.Register': '100' }), mv(2, { 'Energy.Active.Import.Register': '90' })])).toMatch(/log #2: energy register went back from 100 Wh \(log #1\) to 90 Wh/);
    expect(run('powerMatchesVoltageCurrent', [mv(3, { 'Power.Active.Import': '2300', Voltage: '230', 'Current.Import': '10' })])).toBeUndefined();
    expect(run('powerMatchesVoltageCurrent', [mv(3, { 'Power.Active.Import': '3000', Voltage: '230', 'Current.Import': '10' })])).toMatch(/3000 W, but Voltage × Current.Import = 2300.0 W/);
    expect(run('socInRange', [mv(4, { SoC: '101' })])).toMatch(/SoC 101 is outside 0..100/);
    expect(run('transactionIdPresent', [mv(5, {}, {})])).toMatch(/log #5: MeterValues during a transaction without transactionId/);
  });

  it('catch meterStop below meterStart and a flashCharge message that breaks its schema', () => {
    const start = { logId: 1, atUs: 1, action: 'StartTransaction', messageId: 'a', payload: { meterStart: 500 }, answer: { logId: 2, atUs: 2, payload: { transactionId: 9 } } };
    const stop = { logId: 3, atUs: 3, action: 'StopTransaction', messageId: 'b', payload: { transactionId: 9, meterStop: 400 } };
    expect(run('meterStopNotBelowStart', [stop], [start, stop])).toMatch(/meterStop 400 < meterStart 500 \(log #1\)/);
    const dt = (data: unknown, messageId = 'SessionSummary') => ({ logId: 7, atUs: 7, action: 'DataTransfer', messageId: 'c', payload: { vendorId: 'RivotMotors', messageId, data } });
    const meter = (logId: number, ts: string) => ({ logId, atUs: logId, action: 'MeterValues', messageId: `m${logId}`, payload: { connectorId: 1, transactionId: 9, meterValue: [{ timestamp: ts, sampledValue: [{ value: '1' }] }] } });
    const stopAt = (logId: number) => ({ logId, atUs: logId, action: 'StopTransaction', messageId: `s${logId}`, payload: { transactionId: 9, meterStop: 600, timestamp: '2026-01-01T00:00:10Z' } });
    const inOrder = (calls: unknown[]) => run('transactionMessagesInOrder', [calls.at(-1)], calls);
    expect(inOrder([meter(1, '2026-01-01T00:00:01Z'), meter(2, '2026-01-01T00:00:02Z'), stopAt(3)])).toBeUndefined();
    expect(inOrder([meter(1, '2026-01-01T00:00:02Z'), meter(2, '2026-01-01T00:00:01Z'), stopAt(3)])).toMatch(/log #2: meter value of .* arrived after a later one \(log #1\)/);
    expect(inOrder([meter(1, '2026-01-01T00:00:01Z'), meter(2, '2026-01-01T00:00:01Z'), stopAt(3)])).toMatch(/arrived twice/);
    expect(inOrder([meter(1, '2026-01-01T00:00:11Z'), stopAt(3)])).toMatch(/is after the StopTransaction/);
    expect(inOrder([stopAt(2), stopAt(3)])).toBe('transaction 9 was stopped 2 times (logs #2, #3)');
    expect(run('flashChargeSchema', [dt(JSON.stringify({ finalSoc: 80, energyDelivered: 12.5, durationMinutes: 3 }))])).toBeUndefined();
    expect(run('flashChargeSchema', [dt(JSON.stringify({ finalSoc: 80, durationMinutes: 3 }))])).toMatch(/SessionSummary data must have required property 'energyDelivered'/);
    expect(run('flashChargeSchema', [dt({ finalSoc: 80 })])).toMatch(/data must be a JSON string/);
    expect(run('flashChargeSchema', [dt(JSON.stringify({ alertType: 'BMS_ON_FIRE', message: 'x', timestamp: 1 }), 'BMSAlert')])).toMatch(/BMSAlert data\/alertType must be equal to one of the allowed values/);
  });
});
