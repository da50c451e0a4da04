// Settings of the binlog reader, from the environment. STEVE_DB_URL switches the reader on.
import { GatewayError } from '../errors.js';
import { readFileSync } from 'node:fs';
import { envEnum, envInt, envString, envUrl, type Env } from '../config-env.js';

export interface CdcConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** SteVe's schema (database) name, from the URL path. */
  readonly database: string;
  /** Replica id announced to the server: unique per reader, or two readers evict each other's dump thread. */
  readonly serverId: number;
  /** Server heartbeat period while the stream is idle; a silence of 3 periods counts as a dead connection. */
  readonly heartbeatMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** TLS to the database server; undefined = plain TCP. */
  readonly tls?: CdcTls;
  /**
   * Set: the reader runs in a worker thread of its own, with its own heap and young generation (CDC_READER_THREAD=on).
   * Off by default: measured, the thread costs catch-up speed (every event is still built again on the main
   * thread) and gains no commit → client latency by itself; see BENCHMARKS.md "Binlog reader".
   */
  readonly thread?: { readonly youngGenerationMb: number };
}

/**
 * `required`: encrypted, the server's certificate not checked (the self-signed certificate a MariaDB set up for
 * SteVe's `useSSL=true` usually has). `verify`: encrypted and the certificate checked against the CA file (or the
 * system's CAs) and the host name.
 */
export interface CdcTls {
  readonly mode: 'required' | 'verify';
  /** PEM text of the CA bundle, read at start-up. */
  readonly ca?: string;
}

function parseTls(env: Env): CdcTls | undefined {
  const mode = envEnum(env, 'CDC_TLS', ['off', 'required', 'verify'], 'off');
  const caFile = envString(env, 'CDC_TLS_CA_FILE');
  if (mode === 'off') {
    if (caFile !== undefined) {
      throw new GatewayError('GW_ERR_CONFIG', 'CDC_TLS_CA_FILE is set but CDC_TLS is off: set CDC_TLS=verify to use it', { variable: 'CDC_TLS' });
    }
    return undefined;
  }
  if (caFile === undefined) return { mode };
  try {
    return { mode, ca: readFileSync(caFile, 'utf8') };
  } catch (err) {
    throw new GatewayError('GW_ERR_CONFIG', `CDC_TLS_CA_FILE=${caFile} cannot be read: ${(err as Error).message}`, { variable: 'CDC_TLS_CA_FILE' });
  }
}

/** The reader thread's young generation (V8 `maxYoungGenerationSizeMb`, three semi-spaces): see BENCHMARKS.md. */
const DEFAULT_YOUNG_MB = 48;

/** Undefined when STEVE_DB_URL is unset: the gateway then runs without the binlog reader. */
export function parseCdcConfig(env: Env): CdcConfig | undefined {
  const url = envUrl(env, 'STEVE_DB_URL', ['mysql:', 'mariadb:']);
  if (url === undefined) return undefined;
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new GatewayError('GW_ERR_CONFIG', 'STEVE_DB_URL must name SteVe\'s database in its path, e.g. mysql://cdc:secret@127.0.0.1:3306/stevedb', {
      variable: 'STEVE_DB_URL',
    });
  }
  if (url.username === '') {
    throw new GatewayError('GW_ERR_CONFIG', 'STEVE_DB_URL must carry the CDC user, e.g. mysql://cdc:secret@127.0.0.1:3306/stevedb', {
      variable: 'STEVE_DB_URL',
    });
  }
  const reconnectMinMs = envInt(env, 'CDC_RECONNECT_MIN_MS', 500, 10, 600_000);
  const tls = parseTls(env);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 3306 : Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
    serverId: envInt(env, 'CDC_SERVER_ID', 4077, 1, 4_294_967_295),
    heartbeatMs: envInt(env, 'CDC_HEARTBEAT_MS', 5000, 100, 600_000),
    reconnectMinMs,
    reconnectMaxMs: envInt(env, 'CDC_RECONNECT_MAX_MS', 30_000, reconnectMinMs, 3_600_000),
    ...(tls !== undefined ? { tls } : {}),
    ...(envEnum(env, 'CDC_READER_THREAD', ['on', 'off'], 'off') === 'on' ? { thread: { youngGenerationMb: envInt(env, 'CDC_THREAD_YOUNG_MB', DEFAULT_YOUNG_MB, 3, 4096) } } : {}),
  };
}
