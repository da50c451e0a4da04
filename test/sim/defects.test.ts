// The "defects" spec field (faulty firmware): accepted wherever a spec is (REST body, config file, scenario),
// refused with the unknown defect's name. What each defect does to the frames is proven against the charger test
// catalogue in test/charger-tests/defects-sim.test.ts.
import { describe, expect, test } from 'vitest';
import { DEFECTS } from '../../src/sim/defects.js';
import { checkStationSpec } from '../../src/sim/spec.js';
import { parseSimConfig } from '../../src/sim/config.js';
import { parseScenario } from '../../src/sim/scenario.js';

describe('spec field "defects"', () => {
  test('every defect is accepted and kept in the spec; none is the default', () => {
    const checked = checkStationSpec({ id: 'F', defects: [...DEFECTS] });
    expect(checked).toEqual({ ok: true, spec: { id: 'F', defects: [...DEFECTS] } });
    expect(checkStationSpec({ id: 'H' })).toEqual({ ok: true, spec: { id: 'H' } });
  });

  test('an unknown defect is named, with the defects there are; a repeated one and a non-list are refused', () => {
    const bad = checkStationSpec({ id: 'F', defects: ['wrongResetStopReason', 'forgetsQueue'] });
    expect(bad).toEqual({ ok: false, message: `/defects/1: unknown defect "forgetsQueue"; the defects are ${DEFECTS.join(', ')}` });
    expect(checkStationSpec({ id: 'F', defects: ['skipsChargingStatus', 'skipsChargingStatus'] })).toMatchObject({ ok: false, message: expect.stringMatching(/^\/defects must NOT have duplicate items/) });
    expect(checkStationSpec({ id: 'F', defects: 'skipsChargingStatus' })).toMatchObject({ ok: false, message: '/defects must be array' });
  });

  test('in the config file and in scenarios, like any spec field', () => {
    const c = parseSimConfig({}, { simulator: { stations: [{ id: 'LAB', defects: ['meterValuesWithoutTransactionId'] }, { count: 2, idPrefix: 'F-', defects: ['ignoresHeartbeatInterval'] }] } });
    expect(c.stations.map((s) => [s.id, s.defects])).toEqual([
      ['LAB', ['meterValuesWithoutTransactionId']],
      ['F-001', ['ignoresHeartbeatInterval']],
      ['F-002', ['ignoresHeartbeatInterval']],
    ]);
    expect(() => parseSimConfig({}, { simulator: { stations: [{ id: 'LAB', defects: ['losesKeys'] }] } })).toThrow(
      /CONFIG_FILE simulator\.stations\[0\]: \/defects\/0: unknown defect "losesKeys"; the defects are forgetsOfflineQueue,/,
    );
    const s = parseScenario('name: faulty\nstations:\n  - { id: A, defects: [doesNotPersistConfiguration] }\nsteps: []', 'yaml');
    expect(s.stations[0]!.defects).toEqual(['doesNotPersistConfiguration']);
    expect(() => parseScenario('name: faulty\nstations:\n  - { id: A, defects: [losesKeys] }\nsteps: []', 'yaml')).toThrow(
      /scenario does not match the schema: \/stations\/0\/defects\/0: unknown defect "losesKeys"; the defects are /,
    );
  });
});
