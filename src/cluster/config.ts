// Cluster settings: REDIS_URL switches cluster mode on; without it the gateway is one process as before.
import os from 'node:os';
import { envInt, envString, envUrl, type Env } from '../config-env.js';

export interface ClusterConfig {
  readonly redisUrl: string;
  /** This node's name in health, metrics and Redis keys; defaults to host:port once the port is bound. */
  readonly nodeId: string | undefined;
  /** Prefix of every Redis key and channel, so several clusters can share one Redis. */
  readonly prefix: string;
  /** A node not heard from for this long is gone (its stations are not reachable through it). */
  readonly nodeTtlMs: number;
  /** The binlog lease: held for this long, renewed every third of it. */
  readonly leaseMs: number;
  /** How long a request to another node waits for its answer (added to the call's own timeout). */
  readonly rpcTimeoutMs: number;
  /** Entries kept in the shared event stream (a node that joins later replays from what is kept). */
  readonly streamMaxLen: number;
  /** Bytes of events that may wait for Redis while it is down; beyond, new ones are dropped and counted. */
  readonly outboxBytes: number;
  /** Once events come faster than one a round trip (and someone waits for them), they wait up to this long to be
   * appended, and a node reads the stream at most once per this long, in batches (pacing.ts). */
  readonly batchMs: number;
  /** While no node has a push client or webhook waiting for events, they are appended and read at most once per this
   * long instead (each read and append wakes a node, which costs more CPU than the events it carries); 0: never. */
  readonly quietMs: number;
}

export function parseClusterConfig(env: Env): ClusterConfig | undefined {
  const url = envUrl(env, 'REDIS_URL', ['redis:', 'rediss:']);
  if (!url) return undefined;
  return {
    redisUrl: url.href,
    nodeId: envString(env, 'CLUSTER_NODE_ID'),
    prefix: envString(env, 'CLUSTER_PREFIX') ?? 'chargebridge',
    nodeTtlMs: envInt(env, 'CLUSTER_NODE_TTL_MS', 3000, 300),
    leaseMs: envInt(env, 'CLUSTER_LEASE_MS', 3000, 300),
    rpcTimeoutMs: envInt(env, 'CLUSTER_RPC_TIMEOUT_MS', 2000, 100),
    streamMaxLen: envInt(env, 'CLUSTER_STREAM_MAXLEN', 200_000, 1000),
    outboxBytes: envInt(env, 'CLUSTER_OUTBOX_BYTES', 16 * 1024 * 1024, 1024),
    batchMs: envInt(env, 'CLUSTER_BATCH_MS', 10, 0),
    quietMs: envInt(env, 'CLUSTER_QUIET_MS', 250, 0),
  };
}

export function defaultNodeId(port: number): string {
  return `${os.hostname()}:${port}`;
}
