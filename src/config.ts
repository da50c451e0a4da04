// Core configuration: parsed once from the environment (and an optional JSON file for per-station settings),
// validated, frozen. Feature modules parse their own variables with the readers in config-env.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GatewayError } from './errors.js';
import { envBool, envEnum, envInt, envString, envUrl, type Env } from './config-env.js';
import { MAX_GROWTH_PERCENT } from './heap-growth.js';
import { DEFAULT_MAX_RAW_BYTES } from './log/entry.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface StationSettings {
  /** HTTP Basic password the station must present (OCPP security profile 1/2). */
  readonly password?: string;
  /** Password the gateway presents to SteVe for this station (SteVe security profile 1/2). */
  readonly upstreamPassword?: string;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  /** JSON log lines (characters) that may wait for a slow stdout before new ones are dropped and counted. */
  readonly logBufferBytes: number;
  /** The most V8's old generation may grow past its live size (src/heap-growth.ts); 0: V8's own rule. */
  readonly heapGrowthMaxPercent: number;
  /** Absent: the embedded local central system answers stations. */
  readonly steveWsUrl?: URL;
  readonly steveCaFile?: string;
  /** clientCaFile: security profile 3, stations need a client certificate signed by it with CN = chargeBoxId. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
  readonly pingIntervalMs: number;
  readonly maxFrameBytes: number;
  readonly upstreamQueueLimit: number;
  readonly upstreamOpenTimeoutMs: number;
  readonly callTimeoutMs: number;
  readonly localHeartbeatIntervalS: number;
  /** Waiting frames per station while its upstream opens, also in bytes (sum of the frames' lengths). */
  readonly upstreamQueueBytes: number;
  readonly messageLog: { readonly retentionDays: number; readonly queueLimit: number; readonly queueBytes: number; readonly maxRawBytes: number };
  /** Stations without an entry need no password; with REQUIRE_STATION_AUTH every station needs one. */
  readonly stations: Readonly<Record<string, StationSettings>>;
  readonly requireStationAuth: boolean;
  /** The raw parsed config file, for feature modules (simulator, serial) that read their own sections. */
  readonly file: Readonly<Record<string, unknown>>;
  /** The environment the config was read from; feature modules parse their own variables from it at start-up. */
  readonly env: Env;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GatewayError('GW_ERR_CONFIG', `CONFIG_FILE=${file} cannot be read: ${(err as Error).message}`, { variable: 'CONFIG_FILE' });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('top level must be an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new GatewayError('GW_ERR_CONFIG', `CONFIG_FILE=${file} is not valid: ${(err as Error).message}`, { variable: 'CONFIG_FILE' });
  }
}

/** Files the gateway reads at start: a missing or unreadable one is a configuration error, not a crash later. */
function mustRead(variable: string, file: string): void {
  try {
    readFileSync(file);
  } catch (err) {
    throw new GatewayError('GW_ERR_CONFIG', `${variable}=${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { variable });
  }
}

function parseStations(raw: unknown): Record<string, StationSettings> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new GatewayError('GW_ERR_CONFIG', 'CONFIG_FILE: "stations" must be an object keyed by chargeBoxId', { variable: 'CONFIG_FILE' });
  }
  const out: Record<string, StationSettings> = {};
  for (const [id, value] of Object.entries(raw as Record<string, unknown>)) {
    const v = (value ?? {}) as Record<string, unknown>;
    for (const key of ['password', 'upstreamPassword'] as const) {
      if (v[key] !== undefined && typeof v[key] !== 'string') {
        throw new GatewayError('GW_ERR_CONFIG', `CONFIG_FILE: stations.${id}.${key} must be a string`, { variable: 'CONFIG_FILE' });
      }
    }
    out[id] = {
      ...(typeof v.password === 'string' ? { password: v.password } : {}),
      ...(typeof v.upstreamPassword === 'string' ? { upstreamPassword: v.upstreamPassword } : {}),
    };
  }
  return out;
}

export function loadConfig(env: Env = process.env): Config {
  const file = readConfigFile(envString(env, 'CONFIG_FILE'));
  const steveWsUrl = envUrl(env, 'STEVE_WS_URL', ['ws:', 'wss:']);
  const certFile = envString(env, 'TLS_CERT_FILE');
  const keyFile = envString(env, 'TLS_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new GatewayError('GW_ERR_CONFIG', 'TLS_CERT_FILE and TLS_KEY_FILE must be set together', { variable: certFile ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE' });
  }
  const clientCaFile = envString(env, 'TLS_CLIENT_CA_FILE');
  if (clientCaFile !== undefined && certFile === undefined) {
    throw new GatewayError('GW_ERR_CONFIG', 'TLS_CLIENT_CA_FILE (mutual TLS, security profile 3) needs TLS_CERT_FILE and TLS_KEY_FILE: client certificates exist only over wss://', { variable: 'TLS_CLIENT_CA_FILE' });
  }
  for (const [variable, file] of [['TLS_CERT_FILE', certFile], ['TLS_KEY_FILE', keyFile], ['TLS_CLIENT_CA_FILE', clientCaFile]] as const) {
    if (file !== undefined) mustRead(variable, file);
  }
  const steveCaFile = envString(env, 'STEVE_CA_FILE');
  const config: Config = {
    host: envString(env, 'HOST') ?? '0.0.0.0',
    port: envInt(env, 'PORT', 8080, 0, 65535),
    dataDir: path.resolve(envString(env, 'DATA_DIR') ?? './data'),
    logLevel: envEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logBufferBytes: envInt(env, 'LOG_BUFFER_BYTES', 1024 * 1024, 1024),
    heapGrowthMaxPercent: envInt(env, 'HEAP_GROWTH_MAX_PERCENT', MAX_GROWTH_PERCENT, 0, 900),
    ...(steveWsUrl ? { steveWsUrl } : {}),
    ...(steveCaFile ? { steveCaFile } : {}),
    ...(certFile && keyFile ? { tls: { certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) } } : {}),
    pingIntervalMs: envInt(env, 'WS_PING_INTERVAL_MS', 30_000, 0),
    maxFrameBytes: envInt(env, 'MAX_FRAME_BYTES', 8 * 1024 * 1024, 1024),
    upstreamQueueLimit: envInt(env, 'UPSTREAM_QUEUE_LIMIT', 100, 1),
    upstreamQueueBytes: envInt(env, 'UPSTREAM_QUEUE_BYTES', 16 * 1024 * 1024, 1024),
    upstreamOpenTimeoutMs: envInt(env, 'UPSTREAM_OPEN_TIMEOUT_MS', 10_000, 100),
    callTimeoutMs: envInt(env, 'CALL_TIMEOUT_MS', 30_000, 100),
    localHeartbeatIntervalS: envInt(env, 'LOCAL_HEARTBEAT_INTERVAL_S', 300, 1),
    messageLog: {
      retentionDays: envInt(env, 'MESSAGE_LOG_RETENTION_DAYS', 14, 1),
      queueLimit: envInt(env, 'MESSAGE_LOG_QUEUE_LIMIT', 100_000, 100),
      queueBytes: envInt(env, 'MESSAGE_LOG_QUEUE_BYTES', 64 * 1024 * 1024, 64 * 1024),
      maxRawBytes: envInt(env, 'MESSAGE_LOG_MAX_RAW_BYTES', DEFAULT_MAX_RAW_BYTES, 1024),
    },
    stations: parseStations(file.stations),
    requireStationAuth: envBool(env, 'REQUIRE_STATION_AUTH', false),
    file,
    env: Object.freeze({ ...env }),
  };
  return Object.freeze(config);
}
