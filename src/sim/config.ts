// Simulator settings: SIM_* environment variables plus the "simulator" section of CONFIG_FILE.
import { GatewayError } from '../errors.js';
import { envBool, envInt, envString, type Env } from '../config-env.js';
import type { VehicleModel } from './battery.js';
import { DEFAULT_LIMITS, type SimLimits } from './station.js';
import { checkStationSpec, type SimStationSpec } from './spec.js';

export interface SimConfig {
  /** Stations created at start. */
  readonly stations: readonly SimStationSpec[];
  readonly limits: SimLimits;
  /** Initial connects are spread evenly over this window. */
  readonly connectSpreadMs: number;
}

const MODEL_CYCLE: readonly VehicleModel[] = ['Classic', 'Pro', 'Max'];

function configError(message: string, variable = 'CONFIG_FILE'): GatewayError {
  return new GatewayError('GW_ERR_CONFIG', message, { variable });
}

/** Expands `{ count, idPrefix, ...spec }` templates and checks every spec against the published schema. */
export function expandStations(raw: unknown, where: string): SimStationSpec[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw configError(`${where} must be an array`);
  const out: SimStationSpec[] = [];
  raw.forEach((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw configError(`${where}[${i}] must be an object`);
    const { count, idPrefix, ...rest } = item as Record<string, unknown>;
    const specs: unknown[] = [];
    if (count === undefined) specs.push(rest);
    else {
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) throw configError(`${where}[${i}].count must be a positive integer`);
      const prefix = typeof idPrefix === 'string' ? idPrefix : 'SIM-';
      const width = Math.max(3, String(count).length);
      for (let n = 1; n <= count; n++) specs.push({ ...rest, id: `${prefix}${String(n).padStart(width, '0')}` });
    }
    for (const s of specs) {
      const checked = checkStationSpec(s);
      if (!checked.ok) throw configError(`${where}[${i}]: ${checked.message}`);
      out.push(checked.spec);
    }
  });
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.id)) throw configError(`${where}: station id ${s.id} appears twice`);
    seen.add(s.id);
  }
  return out;
}

export function parseSimConfig(env: Env, file: Readonly<Record<string, unknown>> = {}): SimConfig {
  const section = file.simulator;
  if (section !== undefined && (typeof section !== 'object' || section === null || Array.isArray(section))) {
    throw configError('CONFIG_FILE: "simulator" must be an object');
  }
  const fromFile = expandStations((section as Record<string, unknown> | undefined)?.stations, 'CONFIG_FILE simulator.stations');
  // A few autopilot stations by default in embedded mode only: never invent stations in front of a real SteVe.
  const embedded = envString(env, 'STEVE_WS_URL') === undefined;
  const count = envInt(env, 'SIM_STATIONS', fromFile.length === 0 && embedded ? 3 : 0, 0, 100_000);
  const prefix = envString(env, 'SIM_ID_PREFIX') ?? 'SIM-';
  const autopilot = envBool(env, 'SIM_AUTOPILOT', true);
  const generated: SimStationSpec[] = [];
  for (let i = 1; i <= count; i++) {
    const spec = { id: `${prefix}${String(i).padStart(3, '0')}`, vehicle: { model: MODEL_CYCLE[(i - 1) % 3]! }, autopilot };
    const checked = checkStationSpec(spec);
    if (!checked.ok) throw configError(`SIM_ID_PREFIX gives an invalid station id: ${checked.message}`, 'SIM_ID_PREFIX');
    generated.push(checked.spec);
  }
  const ids = new Set(fromFile.map((s) => s.id));
  const stations = [...fromFile, ...generated.filter((s) => !ids.has(s.id))];
  const reconnectMinMs = envInt(env, 'SIM_RECONNECT_MIN_MS', DEFAULT_LIMITS.reconnectMinMs, 10);
  return Object.freeze({
    stations,
    limits: {
      queueLimit: envInt(env, 'SIM_QUEUE_LIMIT', DEFAULT_LIMITS.queueLimit, 1, 1_000_000),
      queueBytes: envInt(env, 'SIM_QUEUE_BYTES', DEFAULT_LIMITS.queueBytes, 1024),
      callTimeoutMs: envInt(env, 'SIM_CALL_TIMEOUT_MS', DEFAULT_LIMITS.callTimeoutMs, 100),
      reconnectMinMs,
      reconnectMaxMs: envInt(env, 'SIM_RECONNECT_MAX_MS', Math.max(DEFAULT_LIMITS.reconnectMaxMs, reconnectMinMs), reconnectMinMs),
      bootDelayMs: envInt(env, 'SIM_BOOT_DELAY_MS', DEFAULT_LIMITS.bootDelayMs, 0),
    },
    connectSpreadMs: envInt(env, 'SIM_CONNECT_SPREAD_MS', 5000, 0),
  });
}
