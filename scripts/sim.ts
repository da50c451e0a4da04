// Standalone simulator: runs a scenario against any OCPP 1.6J endpoint (the gateway or SteVe directly).
//   npm run sim -- --scenario scenarios/arrive-charge-leave.yaml --target ws://localhost:8080/ocpp
//   npm run sim -- --print-schema            (the published scenario JSON schema)
// Exit code 0 when every step passed, 1 when a step failed, 2 on bad usage.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { realClock, scaledClock } from '../src/sim/clock.js';
import { createSimulator } from '../src/sim/index.js';
import { parseSimConfig } from '../src/sim/config.js';
import { loadScenario, scenarioSchema } from '../src/sim/scenario.js';
import { formatResult, runScenario } from '../src/sim/scenario-run.js';
import { wsTransport } from '../src/sim/ws-transport.js';
import { gatewayOf, restFaults, type ScenarioFaults } from '../src/sim/scenario-faults.js';

const usage = `usage: npm run sim -- --scenario FILE --target URL [--speed N] [--data-dir DIR] [--json] [--log-level LEVEL]
       npm run sim -- --print-schema
  --target    OCPP-J base URL; the station id is appended (or replaces {id}), e.g.
              ws://localhost:8080/ocpp  or  ws://steve:8180/steve/websocket/CentralSystemService
  --speed     clock speed (overrides the scenario's); >1 runs faster than real time
  --data-dir  where offline queues persist (default: a fresh temp dir)
  --gateway   the gateway's http(s) URL for the scenario's fault steps (default: the target's host); the
              operator token is read from TOKEN (npm run -s token -- --role operator)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      target: { type: 'string' },
      speed: { type: 'string' },
      'data-dir': { type: 'string' },
      gateway: { type: 'string' },
      json: { type: 'boolean', default: false },
      'print-schema': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'warn' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (values['print-schema']) {
    console.log(JSON.stringify(scenarioSchema, null, 2));
    return 0;
  }
  if (!values.scenario || !values.target) {
    console.error(usage);
    return 2;
  }
  if (!/^wss?:\/\//.test(values.target)) {
    console.error(`--target must be a ws:// or wss:// URL, got ${values.target}`);
    return 2;
  }
  const scenario = loadScenario(values.scenario);
  const speed = values.speed !== undefined ? Number(values.speed) : scenario.speed ?? 1;
  if (!(speed > 0)) {
    console.error('--speed must be a number > 0');
    return 2;
  }
  // Fault steps go to the gateway's REST API with an operator token (from the environment, never an argument).
  let faults: ScenarioFaults | undefined;
  if (scenario.steps.some((st) => 'fault' in st || 'clearFaults' in st)) {
    const token = process.env.TOKEN;
    if (!token) {
      console.error('the scenario sets fault rules: put an operator token in TOKEN (npm run -s token -- --role operator)');
      return 2;
    }
    faults = restFaults(values.gateway ?? gatewayOf(values.target), token);
  }
  const clock = speed === 1 ? realClock : scaledClock(speed);
  const base = parseSimConfig({ ...process.env, SIM_STATIONS: '0' }, {});
  const logger = pino({ level: values['log-level'] ?? 'warn' }, pino.destination(2));
  const dataDir = values['data-dir'] ?? mkdtempSync(path.join(os.tmpdir(), 'chargebridge-sim-'));
  const sim = createSimulator({
    config: { ...base, stations: scenario.stations, connectSpreadMs: (scenario.connectOver ?? 0) * 1000 },
    transport: wsTransport(values.target),
    logger,
    dataDir,
    clock,
  });
  const tty = process.stderr.isTTY;
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  console.error(`scenario "${scenario.name}": ${scenario.stations.length} stations → ${values.target} (speed ${speed}, data ${dataDir})`);
  await sim.start();
  let result;
  try {
    result = await runScenario(scenario, sim, {
      signal: abort.signal,
      timeScale: speed,
      ...(faults ? { faults } : {}),
      onProgress: (line) => {
        if (tty) process.stderr.write(`\r\x1b[2K${line}`);
        else process.stderr.write(`${line}\n`);
      },
    });
  } finally {
    if (tty) process.stderr.write('\n');
    await sim.stop();
  }
  console.log(values.json ? JSON.stringify(result, null, 2) : formatResult(result));
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`sim: ${(err as Error).message}`);
    process.exit(2);
  },
);
