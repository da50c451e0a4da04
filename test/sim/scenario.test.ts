// Scenarios: the published schema, the example files, a run against the SteVe double in-process, and the
// standalone CLI (scripts/sim.ts) end to end.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadScenario, parseScenario, scenarioSchema, selectIds } from '../../src/sim/scenario.js';
import { runScenario } from '../../src/sim/scenario-run.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { callsOf, schemaViolations, startSim, tempDir } from './helpers.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
let double: SteveDouble;
beforeAll(async () => {
  double = await startSteveDouble({ knownStations: 'any' });
});
afterAll(async () => {
  await double.close();
});

test('the published scenarios/scenario.schema.json is the schema the loader uses', () => {
  const published = JSON.parse(readFileSync(path.join(root, 'scenarios/scenario.schema.json'), 'utf8')) as unknown;
  expect(published).toEqual(JSON.parse(JSON.stringify(scenarioSchema)));
});

test('the example scenarios load; bad ones are refused with the reason', () => {
  const a = loadScenario(path.join(root, 'scenarios/arrive-charge-leave.yaml'));
  expect(a.stations).toHaveLength(200);
  expect(a.stations[0]!.id).toBe('ARRIVE-001');
  expect(loadScenario(path.join(root, 'scenarios/reconnect-storm.yaml')).stations).toHaveLength(500);
  expect(loadScenario(path.join(root, 'scenarios/single-session.json')).steps).toHaveLength(8);
  expect(() => parseScenario('name: x\nstations: []\nsteps: []', 'yaml')).toThrow(/schema/);
  expect(() => parseScenario('{"name":"x","stations":[{"id":"A"}],"steps":[{"action":{"type":"explode"}}]}', 'json')).toThrow(/schema/);
  expect(() => parseScenario('{"name":"x","stations":[{"id":"A"},{"id":"A"}],"steps":[]}', 'json')).toThrow(/twice/);
  expect(() => parseScenario('{ nope', 'json')).toThrow(/not valid JSON/);
});

test('selectors: all, prefix*, list, slice', () => {
  const ids = ['A-1', 'A-2', 'B-1', 'B-2'];
  expect(selectIds(ids, 'all')).toEqual(ids);
  expect(selectIds(ids, 'B-*')).toEqual(['B-1', 'B-2']);
  expect(selectIds(ids, ['A-2', 'B-1'])).toEqual(['A-2', 'B-1']);
  expect(selectIds(ids, { from: 1, count: 2 })).toEqual(['A-2', 'B-1']);
});

test('a scenario run: 20 stations arrive over 10 s, charge to their target, leave; then a reconnect storm', async () => {
  const scenario = parseScenario(
    `
name: small
stations:
  - count: 20
    idPrefix: SC-
    vehicle: { model: Classic, initialSoc: 79.4, targetSoc: 80, departAfterTargetS: 5 }
steps:
  - waitFor: booted
    timeout: 60
  - action: { type: start }
    over: 10
  - waitFor: idle
    timeout: 600
  - action: { type: dropLink }
    stations: SC-*
  - waitFor: online
    timeout: 60
`,
    'yaml',
  );
  const h = startSim({ target: double.url, speed: 40, stations: [...scenario.stations] });
  await h.sim.start();
  const lines: string[] = [];
  const result = await runScenario(scenario, h.sim, { onProgress: (l) => lines.push(l) });
  await h.sim.stop();
  expect(result.ok).toBe(true);
  expect(result.steps.map((s) => s.ok)).toEqual([true, true, true, true, true]);
  expect(result.steps[1]!.seconds).toBeGreaterThanOrEqual(9); // spread over 10 s of simulated time
  expect(result.totals).toMatchObject({ stations: 20, txStarted: 20, txStopped: 20, online: 20 });
  for (const s of scenario.stations) {
    const acts = callsOf(h.log, s.id).map((c) => c.action);
    expect(acts.filter((a) => a === 'StartTransaction')).toHaveLength(1);
    const stop = callsOf(h.log, s.id).find((c) => c.action === 'StopTransaction')!;
    expect(stop.payload.reason).toBe('EVDisconnected');
    expect(h.sim.get(s.id).counters.connects).toBe(2);
  }
  expect(schemaViolations(h.log)).toEqual([]);
  expect(lines.length).toBeGreaterThan(0);
});

test('npm run sim: the standalone CLI runs a scenario file against a target URL and prints a summary', async () => {
  const file = path.join(tempDir(), 'cli.json');
  writeFileSync(file, JSON.stringify({
    name: 'cli',
    speed: 40,
    stations: [{ count: 3, idPrefix: 'CLI-', vehicle: { model: 'Pro', initialSoc: 79.7, targetSoc: 80, departAfterTargetS: 2 } }],
    steps: [{ waitFor: 'booted', timeout: 60 }, { action: { type: 'start' } }, { waitFor: 'idle', timeout: 300 }],
  }));
  const { stdout, stderr } = await run('npx', ['tsx', 'scripts/sim.ts', '--scenario', file, '--target', double.url], { cwd: root, timeout: 60_000 });
  expect(stdout).toContain('scenario "cli": PASSED');
  expect(stdout).toMatch(/transactions started 3, stopped 3/);
  expect(stderr).toContain('3 stations');
  expect(double.received.filter((f) => f.chargeBoxId.startsWith('CLI-') && f.frame[2] === 'StopTransaction')).toHaveLength(3);
  const bad = await run('npx', ['tsx', 'scripts/sim.ts', '--scenario', file], { cwd: root }).catch((e: { code: number }) => e);
  expect((bad as { code: number }).code).toBe(2);
}, 90_000);
