// Mirror upstream settings: limits from the environment, mirrors from CONFIG_FILE (`mirrors: [...]`) and REST.
// One checker for both sources, so a bad entry gets the same message wherever it came from.
import { readFileSync } from 'node:fs';
import { envInt, type Env } from '../config-env.js';
import { GatewayError } from '../errors.js';

export interface MirrorLimits {
  /** UTF-8 bytes queued per mirror and station, written or not yet flushed (MIRROR_QUEUE_BYTES, default 1 MiB). */
  readonly queueBytes: number;
  /** First reconnect delay; doubles per failure, with jitter (MIRROR_RETRY_BASE_MS, default 1000). */
  readonly retryBaseMs: number;
  /** Longest reconnect delay (MIRROR_RETRY_MAX_MS, default 60000). */
  readonly retryMaxMs: number;
  /** WebSocket handshake timeout (MIRROR_OPEN_TIMEOUT_MS, default 10000). */
  readonly openTimeoutMs: number;
  /** Largest frame accepted from a mirror (MAX_FRAME_BYTES). */
  readonly maxFrameBytes: number;
  /** How often the mirror worker reports its links' numbers (MIRROR_STATS_MS, default 1000; changes of state, drops, reconnects and errors within 50 ms). */
  readonly statsIntervalMs: number;
  /** The mirror worker is restarted when it has not reported for this long (MIRROR_WORKER_STALL_MS, default 10000). */
  readonly stallMs: number;
}

export function parseMirrorLimits(env: Env, maxFrameBytes: number): MirrorLimits {
  const retryBaseMs = envInt(env, 'MIRROR_RETRY_BASE_MS', 1000, 10, 3_600_000);
  const statsIntervalMs = envInt(env, 'MIRROR_STATS_MS', 1000, 50, 60_000);
  return {
    queueBytes: envInt(env, 'MIRROR_QUEUE_BYTES', 1024 * 1024, 1024),
    retryBaseMs,
    retryMaxMs: Math.max(retryBaseMs, envInt(env, 'MIRROR_RETRY_MAX_MS', 60_000, 10, 86_400_000)),
    openTimeoutMs: envInt(env, 'MIRROR_OPEN_TIMEOUT_MS', 10_000, 100),
    maxFrameBytes,
    statsIntervalMs,
    stallMs: Math.max(4 * statsIntervalMs, envInt(env, 'MIRROR_WORKER_STALL_MS', 10_000, 200, 3_600_000)),
  };
}

export interface MirrorSpec {
  readonly id: string;
  /** ws:// or wss:// base; the station's (renamed) chargeBoxId is appended as the last path segment. */
  readonly url: string;
  readonly stations: 'all' | readonly string[];
  /** HTTP Basic password presented to the mirror; never shown by the API, never logged. */
  readonly password?: string;
  /** Basic user name; absent: the chargeBoxId the mirror sees (OCPP security profile 1). */
  readonly username?: string;
  /** PEM file of the CA that signed the mirror's certificate (wss://). */
  readonly caFile?: string;
  /** chargeBoxId → the id this mirror sees; stations not named keep theirs. */
  readonly rename: Readonly<Record<string, string>>;
  /** Actions the mirror may send to the station; any other call from it is refused. */
  readonly allowActions: readonly string[];
  /** Also send the primary's answers to the station's calls (default true; false for a CS that closes on them). */
  readonly answers: boolean;
  /** Record the mirror's (discarded) answers in the message log; default false: they are only counted. */
  readonly logAnswers: boolean;
  /** Overrides MIRROR_QUEUE_BYTES for this mirror. */
  readonly queueBytes?: number;
  /** config: from CONFIG_FILE, read-only over REST; api: created over REST, kept in DATA_DIR/mirrors/. */
  readonly origin: 'config' | 'api';
}

export class MirrorInputError extends Error {
  override name = 'MirrorInputError';
}
export class MirrorNotFound extends Error {
  override name = 'MirrorNotFound';
}
export class MirrorReadOnly extends Error {
  override name = 'MirrorReadOnly';
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const KNOWN_KEYS = new Set(['id', 'url', 'stations', 'password', 'username', 'caFile', 'rename', 'allowActions', 'answers', 'logAnswers', 'queueBytes']);

function strings(where: string, v: unknown): readonly string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw new MirrorInputError(`${where} must be a list of non-empty strings`);
  return [...new Set(v as string[])];
}

function checkUrl(where: string, v: unknown): string {
  if (typeof v !== 'string') throw new MirrorInputError(`${where}.url must be a string (ws:// or wss://)`);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new MirrorInputError(`${where}.url is not a URL: ${JSON.stringify(v.slice(0, 200))}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new MirrorInputError(`${where}.url must start with ws:// or wss://`);
  // A password in a URL ends up in logs and listings: it has its own field.
  if (url.username !== '' || url.password !== '') throw new MirrorInputError(`${where}.url must not hold credentials: use "username" and "password"`);
  if (url.search !== '' || url.hash !== '') throw new MirrorInputError(`${where}.url must not have a query or fragment (the chargeBoxId is appended to its path)`);
  return url.href.replace(/\/+$/, '');
}

function checkRename(where: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MirrorInputError(`${where}.rename must be an object: chargeBoxId → the id the mirror sees`);
  const out: Record<string, string> = {};
  for (const [k, to] of Object.entries(v as Record<string, unknown>)) {
    if (typeof to !== 'string' || to === '' || to.length > 255) throw new MirrorInputError(`${where}.rename.${k} must be a non-empty string of at most 255 characters`);
    out[k] = to;
  }
  return out;
}

/** Checks one mirror (CONFIG_FILE entry or REST body). */
export function checkMirror(where: string, raw: unknown, origin: MirrorSpec['origin']): MirrorSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new MirrorInputError(`${where} must be an object with id and url`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN_KEYS.has(k)) throw new MirrorInputError(`${where}: unknown field "${k}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  if (typeof o.id !== 'string' || !ID_PATTERN.test(o.id)) throw new MirrorInputError(`${where}.id must be 1-64 letters, digits, _ or -`);
  const stations = o.stations === undefined || o.stations === 'all' ? 'all' : strings(`${where}.stations`, o.stations);
  if (stations !== 'all' && stations.length === 0) throw new MirrorInputError(`${where}.stations must be "all" or a non-empty list`);
  for (const k of ['password', 'username', 'caFile'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) throw new MirrorInputError(`${where}.${k} must be a non-empty string`);
  }
  if (typeof o.username === 'string' && o.username.includes(':')) throw new MirrorInputError(`${where}.username must not contain ":"`);
  if (typeof o.caFile === 'string') {
    try {
      readFileSync(o.caFile);
    } catch (err) {
      throw new MirrorInputError(`${where}.caFile cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  for (const k of ['answers', 'logAnswers'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new MirrorInputError(`${where}.${k} must be true or false`);
  }
  if (o.queueBytes !== undefined && (!Number.isSafeInteger(o.queueBytes) || (o.queueBytes as number) < 1024)) throw new MirrorInputError(`${where}.queueBytes must be an integer ≥ 1024`);
  return {
    id: o.id,
    url: checkUrl(where, o.url),
    stations,
    ...(typeof o.password === 'string' ? { password: o.password } : {}),
    ...(typeof o.username === 'string' ? { username: o.username } : {}),
    ...(typeof o.caFile === 'string' ? { caFile: o.caFile } : {}),
    rename: checkRename(where, o.rename),
    allowActions: o.allowActions === undefined ? [] : strings(`${where}.allowActions`, o.allowActions),
    answers: o.answers !== false,
    logAnswers: o.logAnswers === true,
    ...(typeof o.queueBytes === 'number' ? { queueBytes: o.queueBytes } : {}),
    origin,
  };
}

/** The `mirrors` section of CONFIG_FILE. */
export function parseConfigMirrors(file: Readonly<Record<string, unknown>>): MirrorSpec[] {
  const raw = file.mirrors;
  if (raw === undefined) return [];
  const fail = (message: string): never => {
    throw new GatewayError('GW_ERR_CONFIG', `CONFIG_FILE: ${message}`, { variable: 'CONFIG_FILE' });
  };
  if (!Array.isArray(raw)) return fail('"mirrors" must be a list of mirror upstreams');
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    try {
      const spec = checkMirror(`mirrors[${i}]`, entry, 'config');
      if (seen.has(spec.id)) throw new MirrorInputError(`mirrors[${i}].id "${spec.id}" is used twice`);
      seen.add(spec.id);
      return spec;
    } catch (err) {
      return fail((err as Error).message);
    }
  });
}

/** Whether a mirror follows this station. */
export function mirrors(spec: MirrorSpec, chargeBoxId: string): boolean {
  return spec.stations === 'all' || spec.stations.includes(chargeBoxId);
}
