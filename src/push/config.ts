// Push and API-auth settings, parsed once from the environment. The core config supplies dataDir (where the
// embedded signing secret lives when no key is configured) and the call timeout.
import path from 'node:path';
import { GatewayError } from '../errors.js';
import { loadConfig, type Config } from '../config.js';
import { envBool, envEnum, envInt, envString, type Env } from '../config-env.js';

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

/** Where token keys come from: a shared secret, a key pair on disk, or a secret the gateway generated itself. */
export type KeySource =
  | { readonly kind: 'secret'; readonly algorithm: 'HS256'; readonly secret: string }
  | { readonly kind: 'keyFiles'; readonly algorithm: 'RS256' | 'ES256'; readonly publicKeyFile: string; readonly privateKeyFile?: string }
  | { readonly kind: 'embedded'; readonly algorithm: 'HS256'; readonly file: string };

export interface PushConfig {
  readonly key: KeySource;
  readonly issuer?: string;
  readonly audience?: string;
  /** Live frames waiting per socket; beyond it frames are lost (counted, the client is told). */
  readonly frameQueueLimit: number;
  /** The same in estimated bytes (a frame's length ×4 + 512). */
  readonly frameQueueBytes: number;
  /** Packets the engine may hold for a socket before we stop writing to it (the rest waits on our side). */
  readonly socketBufferPackets: number;
  /** Fan-out frames straight to the WebSocket when engine.io holds nothing back (off: every packet through engine.io). */
  readonly directWrites: boolean;
  /** Bytes the engine may hold for a socket before we stop writing to it: the per-client byte budget. */
  readonly clientBufferBytes: number;
  /** A socket with bytes waiting that drains nothing for this long is a slow consumer and is cut off. */
  readonly stallTimeoutMs: number;
  /** Sockets written per event before yielding to the event loop (keeps the relay responsive at 10k clients). */
  readonly fanOutSlice: number;
  readonly metricsIntervalMs: number;
  /** Shortest time between two summaries of one station (changes in between are folded into the next). */
  readonly summaryIntervalMs: number;
  /** Tick of the fleet feed: at most one `fleet` message per socket (one entry per changed station) per tick. */
  readonly fleetIntervalMs: number;
  /** How long before `exp` a socket is warned. */
  readonly expiryWarningMs: number;
  /** Most events one replay request returns per station. */
  readonly replayLimit: number;
  readonly callTimeoutMs: number;
  /** GET stations/messages/metrics may be read without a token from loopback addresses. */
  readonly apiOpenOnLoopback: boolean;
  /** Development only: POST /api/push/dev-token issues tokens to loopback callers. */
  readonly devTokenEndpoint: boolean;
}

/** File name of the generated HS256 secret inside DATA_DIR. */
export const EMBEDDED_SECRET_FILE = 'jwt-secret';
const MIN_SECRET_LENGTH = 32;

function keySource(env: Env, dataDir: string): KeySource {
  const secret = envString(env, 'JWT_SECRET');
  const publicKeyFile = envString(env, 'JWT_PUBLIC_KEY_FILE');
  const privateKeyFile = envString(env, 'JWT_PRIVATE_KEY_FILE');
  const algorithm = envEnum<JwtAlgorithm>(env, 'JWT_ALGORITHM', ['HS256', 'RS256', 'ES256'], secret || !publicKeyFile ? 'HS256' : 'RS256');
  if (secret && publicKeyFile) {
    throw new GatewayError('GW_ERR_CONFIG', 'set either JWT_SECRET or JWT_PUBLIC_KEY_FILE, not both', { variable: 'JWT_PUBLIC_KEY_FILE' });
  }
  if (privateKeyFile && !publicKeyFile) {
    throw new GatewayError('GW_ERR_CONFIG', 'JWT_PRIVATE_KEY_FILE needs JWT_PUBLIC_KEY_FILE (the gateway verifies with the public key)', { variable: 'JWT_PUBLIC_KEY_FILE' });
  }
  if (publicKeyFile) {
    if (algorithm === 'HS256') {
      throw new GatewayError('GW_ERR_CONFIG', 'JWT_ALGORITHM must be RS256 or ES256 with JWT_PUBLIC_KEY_FILE', { variable: 'JWT_ALGORITHM' });
    }
    return { kind: 'keyFiles', algorithm, publicKeyFile: path.resolve(publicKeyFile), ...(privateKeyFile ? { privateKeyFile: path.resolve(privateKeyFile) } : {}) };
  }
  if (algorithm !== 'HS256') {
    throw new GatewayError('GW_ERR_CONFIG', `JWT_ALGORITHM=${algorithm} needs JWT_PUBLIC_KEY_FILE`, { variable: 'JWT_ALGORITHM' });
  }
  if (secret) {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new GatewayError('GW_ERR_CONFIG', `JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`, { variable: 'JWT_SECRET' });
    }
    return { kind: 'secret', algorithm: 'HS256', secret };
  }
  return { kind: 'embedded', algorithm: 'HS256', file: path.join(dataDir, EMBEDDED_SECRET_FILE) };
}

export function parsePushConfig(env: Env = process.env, core: Pick<Config, 'dataDir' | 'callTimeoutMs'> = loadConfig(env)): PushConfig {
  const issuer = envString(env, 'JWT_ISSUER');
  const audience = envString(env, 'JWT_AUDIENCE');
  return Object.freeze({
    key: keySource(env, core.dataDir),
    ...(issuer ? { issuer } : {}),
    ...(audience ? { audience } : {}),
    frameQueueLimit: envInt(env, 'PUSH_FRAME_QUEUE_LIMIT', 1000, 10),
    frameQueueBytes: envInt(env, 'PUSH_FRAME_QUEUE_BYTES', 16 * 1024 * 1024, 64 * 1024),
    socketBufferPackets: envInt(env, 'PUSH_SOCKET_BUFFER_PACKETS', 64, 1),
    directWrites: envBool(env, 'PUSH_DIRECT_WRITES', true),
    clientBufferBytes: envInt(env, 'PUSH_CLIENT_BUFFER_BYTES', 1_048_576, 4096),
    stallTimeoutMs: envInt(env, 'PUSH_STALL_TIMEOUT_MS', 30_000, 500),
    fanOutSlice: envInt(env, 'PUSH_FANOUT_SLICE', 256, 1),
    metricsIntervalMs: envInt(env, 'PUSH_METRICS_INTERVAL_MS', 2000, 100),
    summaryIntervalMs: envInt(env, 'PUSH_SUMMARY_INTERVAL_MS', 250, 0),
    fleetIntervalMs: envInt(env, 'PUSH_FLEET_INTERVAL_MS', 1000, 50),
    expiryWarningMs: envInt(env, 'PUSH_EXPIRY_WARNING_S', 60, 0) * 1000,
    replayLimit: envInt(env, 'PUSH_REPLAY_LIMIT', 1000, 1),
    callTimeoutMs: core.callTimeoutMs,
    apiOpenOnLoopback: envBool(env, 'API_OPEN_ON_LOOPBACK', false),
    devTokenEndpoint: envBool(env, 'DEV_TOKEN_ENDPOINT', false),
  });
}
