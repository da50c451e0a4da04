import { afterEach, expect, test } from 'vitest';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { callsOf, schemaViolations, startSim, until } from './helpers.js';

let double: SteveDouble | undefined;
afterEach(async () => {
  await double?.close();
});

test('smoke: boot, charge, stop', async () => {
  double = await startSteveDouble({ knownStations: 'any' });
  const h = startSim({ target: double.url, stations: [{ id: 'S1' }] });
  await h.sim.start();
  await until(() => h.sim.get('S1').booted, 5000, 'boot');
  await h.sim.act('S1', { type: 'start', vehicle: { model: 'Pro', initialSoc: 50, targetSoc: 60 } });
  await until(() => h.sim.get('S1').connectors[0]?.status === 'Charging', 5000, 'charging');
  await new Promise((r) => setTimeout(r, 1500));
  await h.sim.act('S1', { type: 'stop' });
  await until(() => callsOf(h.log, 'S1').some((c) => c.action === 'StopTransaction'), 5000, 'stop');
  await new Promise((r) => setTimeout(r, 300));
  console.log(callsOf(h.log, 'S1').map((c) => `${c.action} ${JSON.stringify(c.payload)}`).join('\n'));
  console.log(h.sim.get('S1'));
  expect(schemaViolations(h.log)).toEqual([]);
  await h.sim.stop();
});
