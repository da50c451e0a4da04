// The "defects" spec field (faulty firmware): accepted wherever a spec is (REST body, config file, scenario),
// refused with the unknown defect's name. What each defect does to the frames is proven against the charger test
// catalogue in test/charger-tests/defects-sim.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFECTS } from '../../src/sim/defects.js';
import { checkStationSpec } from '../../src/sim/spec.js';
import { parseSimConfig } from '../../src/sim/config.js';
import { parseScenario } from '../../src/sim/scenario.js';
import { startSteveDouble } from '../support/steve-double.js';
import { schemaViolations, startSim, tempDir, until } from './helpers.js';

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

describe('a faulty station', () => {
  test('doesNotPersistConfiguration writes no changed key to disk: after a restart on the same DATA_DIR the healthy station keeps it, the faulty one does not', async () => {
    const double = await startSteveDouble({ knownStations: 'any' });
    const dataDir = tempDir();
    const specs = [{ id: 'KEEPS' }, { id: 'FORGETS', defects: ['doesNotPersistConfiguration' as const] }];
    const interval = async (id: string): Promise<unknown> => {
      const f = await double.call(id, 'GetConfiguration', { key: ['MeterValueSampleInterval'] });
      return (f[2] as { configurationKey: { value: string }[] }).configurationKey[0]?.value;
    };
    try {
      const h1 = startSim({ target: double.url, speed: 20, dataDir, stations: specs });
      await h1.sim.start();
      await until(() => specs.every((s) => h1.sim.get(s.id).booted), 10_000, 'both booted');
      expect(h1.sim.get('FORGETS').defects).toEqual(['doesNotPersistConfiguration']);
      expect(h1.sim.get('KEEPS')).not.toHaveProperty('defects');
      for (const s of specs) expect((await double.call(s.id, 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '17' }))[2]).toEqual({ status: 'Accepted' });
      // Until the reboot both use the new value.
      expect(await interval('FORGETS')).toBe('17');
      await h1.sim.stop();
      const file = (id: string): string => path.join(dataDir, 'sim', `${id}.json`);
      expect((JSON.parse(readFileSync(file('KEEPS'), 'utf8')) as { config: unknown }).config).toMatchObject({ MeterValueSampleInterval: '17' });
      expect(existsSync(file('FORGETS'))).toBe(false);

      const h2 = startSim({ target: double.url, speed: 20, dataDir, stations: specs });
      await h2.sim.start();
      await until(() => specs.every((s) => h2.sim.get(s.id).booted && h2.sim.get(s.id).online), 10_000, 'both booted again');
      expect(await interval('KEEPS')).toBe('17');
      expect(await interval('FORGETS')).toBe('5');
      await h2.sim.stop();
      // Faulty, but still valid OCPP 1.6 on the wire.
      expect(schemaViolations([...h1.log, ...h2.log])).toEqual([]);
    } finally {
      await double.close();
    }
  });
});
