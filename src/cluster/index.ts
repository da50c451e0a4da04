// Cluster mode (REDIS_URL): several gateway nodes behind a load balancer acting as one gateway. Built by gateway.ts
// only when REDIS_URL is set; single-process mode never loads Redis. Nothing here sits on the relay path: station
// claims, event appends and heartbeats are sent after the relay has done its work, and fail fast while Redis is away.
import { Gauge, type Registry } from 'prom-client';
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { CdcReader } from '../cdc/index.js';
import type { Bus } from '../events/bus.js';
import type { GatewayEvent } from '../events/catalogue.js';
import type { SharedSequencing } from '../events/index.js';
import type { CallPort } from '../relay/commands.js';
import type { FaultsAccess, FaultsPort } from '../relay/faults/index.js';
import type { StationInfo } from '../relay/relay.js';
import type { ClusterMessagesPort, MessageLog } from '../log/index.js';
import { BinlogLeader, SharedCheckpoints } from './binlog-leader.js';
import { defaultNodeId, type ClusterConfig } from './config.js';
import { caughtUp, EventOutbox, EventStreamReader, type StreamCounters } from './event-stream.js';
import { ClusterKeys } from './keys.js';
import { BinlogLease } from './lease.js';
import { Membership } from './membership.js';
import { StationOwnership, type StationCloser } from './ownership.js';
import { RedisLink } from './redis.js';
import { RoutedCalls } from './routed-calls.js';
import { clusterMessages, parseClusterCursor } from './cluster-messages.js';
import { routedFaults } from './routed-faults.js';
import { routedSim, type SimCommandPort } from './routed-sim.js';
import { routedSimRest } from './routed-sim-rest.js';
import { ClusterRpc } from './rpc.js';
import { routedTests } from './routed-tests.js';
import type { TestsAcrossNodes } from '../events/test-runs.js';
import { routedFrames, type RemoteFrames } from './routed-frames.js';
import { streamPacing } from './pacing.js';
import { StreamPosition } from './stream-position.js';
import { webhookClaims, type WebhookClaim } from './webhook-claims.js';

export { parseClusterConfig, type ClusterConfig } from './config.js';
export type { WebhookClaim } from './webhook-claims.js';
export type { RemoteFrames } from './routed-frames.js';

/** What the relay offers the cluster. */
export interface ClusterRelay extends StationCloser, CallPort {
  holds(chargeBoxId: string): boolean;
  readonly faults: FaultsPort;
  stations(): StationInfo[];
}

export interface ClusterDeps {
  readonly config: ClusterConfig;
  readonly bus: Bus;
  readonly relay: ClusterRelay;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly registry: Registry;
  readonly callTimeoutMs: number;
  /** Per CONFIG_FILE webhook subscription, bytes of events waiting to be claimed (WEBHOOKS_QUEUE_BYTES). */
  readonly webhookQueueBytes: number;
}

export interface Cluster {
  readonly nodeId: string;
  /** The event model's seq in cluster mode: given by Redis to the producing node's events; every node's read back. */
  readonly sequencing: SharedSequencing;
  /** Checkpoint store for the binlog reader: shared in Redis, written only under the lease. */
  readonly checkpoints: SharedCheckpoints;
  /** The binlog reader, run only while this node holds the lease. */
  leadBinlog(reader: CdcReader): CdcReader;
  /** Operator calls reach the station through whichever node holds it. */
  readonly calls: CallPort;
  /** GET /api/messages JSON pages merged from every live node. */
  messages(log: MessageLog): ClusterMessagesPort;
  /** Charger test runs of stations held by other nodes: started, followed and answered there from here. */
  readonly tests: TestsAcrossNodes;
  /** Fault rules (REST and Socket.IO) act in the relay of the node holding the station. */
  readonly faults: FaultsAccess;
  /** Simulator commands (Socket.IO `sim`) on stations simulated by another node run there. */
  routeSim(local: SimCommandPort, simulatedHere: (id: string) => boolean): SimCommandPort;
  /** REST /api/sim in front of the simulator's router: other nodes' simulated stations, and every node's list. */
  simRest(commands: SimCommandPort, simulatedHere: (id: string) => boolean, listHere: () => readonly object[]): Router;
  /** The live frame stream (Socket.IO) of stations held by other nodes. */
  readonly frames: RemoteFrames;
  /** Webhook subscriptions every node has (CONFIG_FILE): each event is queued by one node only. */
  readonly webhookClaim: WebhookClaim;
  /** Every node's stations (other nodes' as of their last heartbeat). */
  stations(): StationInfo[];
  health(): Record<string, unknown>;
  /**
   * Whether anyone on this node waits for events as they happen (push clients, webhooks). Until this is called, or
   * while it says yes, events are appended and read as they come (pacing.ts); while no node says yes, at most once
   * per CLUSTER_QUIET_MS (reads answered from this node's history first wait for settled()).
   */
  eventsWanted(here: () => boolean): void;
  /**
   * Resolves once this node has read what the stream held when asked (at most SETTLE_MS): REST reads answered from
   * this node's history wait for it, and so do Socket.IO subscriptions (their snapshot and replay), so paced reads
   * (CLUSTER_QUIET_MS) never make them lag what the stream holds. At once with CLUSTER_QUIET_MS=0.
   */
  settled(): Promise<void>;
  /** After the HTTP server is bound (the default node id needs the port). */
  start(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** The most a REST read waits for this node to read the stream (Redis slow or away: it answers from what it has). */
const SETTLE_MS = 1000;

/** How long a node not expected to deliver a webhook event waits before claiming it (the expected one died or lags). */
const WEBHOOK_BACKUP_MS = 5000;

export function createCluster(deps: ClusterDeps): Cluster {
  const { config, bus, relay } = deps;
  const logger = deps.logger.child({ module: 'cluster' });
  const keys = new ClusterKeys(config.prefix);
  let nodeId = config.nodeId ?? 'unbound';
  const me = (): string => nodeId;
  const redis = new RedisLink(config.redisUrl, 'chargebridge-main', logger);
  const sub = new RedisLink(config.redisUrl, 'chargebridge-sub', logger);
  const reading = new RedisLink(config.redisUrl, 'chargebridge-stream', logger);
  const counters: StreamCounters = { appended: 0, droppedForBytes: 0, fencedOut: 0, read: 0, readErrors: 0 };
  let askWanted: () => boolean = () => true;
  // Asked at most every 100 ms: the answer may walk every push client.
  let wanted = { at: 0, yes: true };
  const wantedHere = (): boolean => {
    const now = Date.now();
    if (now - wanted.at >= 100) {
      const yes = askWanted();
      // Someone came to wait: what lingers or sleeps for the quiet pace goes now.
      if (yes && !wanted.yes) {
        outbox.hurry();
        reader.wake();
      }
      wanted = { at: now, yes };
    }
    return wanted.yes;
  };
  const pacing = streamPacing(config, wantedHere, () => wantedHere() || membership.peers().some((p) => p.eventsWanted === true));
  const outbox = new EventOutbox(redis, keys, config.streamMaxLen, config.outboxBytes, counters, logger, (queued, last) => pacing.linger(queued, last));
  const rpc = new ClusterRpc(redis, sub, keys, me, logger);
  const ownership = new StationOwnership(redis, keys, rpc, me, relay, outbox, logger, (node) => membership.alive(node));
  const calls = new RoutedCalls(relay, ownership, rpc, deps.callTimeoutMs, config.rpcTimeoutMs);
  const faults = routedFaults(relay.faults, ownership, rpc, config.rpcTimeoutMs);
  let leader: BinlogLeader | undefined;
  const lease = new BinlogLease(redis, keys, me, config.leaseMs, {
    acquired: (fence) => leader?.acquired(fence),
    lost: () => leader?.lost(),
  }, logger);
  /** What SteVe's events and checkpoints are published under: the lease this node holds, if its running binlog
   * reader was started in that very term (binlog-leader.ts, readerFence). */
  const binlogFence = (): string | undefined => {
    const held = lease.fence;
    return held !== undefined && held === leader?.readerFence ? held : undefined;
  };
  const checkpoints = new SharedCheckpoints(outbox, binlogFence);
  const position = new StreamPosition(deps.dataDir);
  let sink: ((event: GatewayEvent, line: string) => void) | undefined;
  const reader = new EventStreamReader(reading, keys, position.load(), (event, line) => sink?.(event, line), counters, logger, (got) => pacing.interval(got));
  const startedAt = new Date().toISOString();
  const membership = new Membership({
    redis, keys, ttlMs: config.nodeTtlMs, logger,
    self: () => ({ nodeId, startedAt, binlogLeader: lease.holder, ...(frames.wanted ? { framesWanted: true } : {}), ...(wantedHere() ? { eventsWanted: true } : {}) }),
    stations: () => relay.stations(),
  });
  // The node holding the station delivers its events at once; a station nobody holds is the binlog leader's.
  const webhooks = webhookClaims({
    redis, keys, logger, backupMs: WEBHOOK_BACKUP_MS, nodeId: me, queueBytes: deps.webhookQueueBytes,
    first: (id) => relay.holds(id) || (lease.holder && !peerHolds(id)),
  });
  // Stations other nodes hold, from their heartbeats, as a set built again at most once a second.
  let peerHeld = { at: 0, ids: new Set<string>() };
  function peerHolds(id: string): boolean {
    if (Date.now() - peerHeld.at > 1000) peerHeld = { at: Date.now(), ids: new Set(membership.peerStations().flatMap((p) => p.stations.map((s) => s.chargeBoxId))) };
    return peerHeld.ids.has(id);
  }
  const tests = routedTests({ bus, redis, keys, rpc, ownership, membership, nodeId: me, timeoutMs: config.rpcTimeoutMs, logger });
  const frameCounters = { sent: 0, received: 0 };
  const frames = routedFrames(bus, rpc, membership, frameCounters);
  let offFrames: (() => void) | undefined;

  new Gauge({
    name: 'chargebridge_cluster_node_info', help: 'This gateway node in cluster mode (value 1; the node label names it)', labelNames: ['node'], registers: [deps.registry],
    collect() {
      this.reset();
      this.set({ node: nodeId }, 1);
    },
  });
  new Gauge({
    name: 'chargebridge_cluster_redis_up', help: '1 while this node\'s Redis connections are up', registers: [deps.registry],
    collect() {
      this.set(redis.up && sub.up && reading.up ? 1 : 0);
    },
  });

  return {
    get nodeId() {
      return nodeId;
    },
    sequencing: {
      get nodeId() {
        return nodeId;
      },
      // This node's events: SteVe's only from a reader started in the lease term held now (the script checks the
      // lease again).
      publish(event) {
        if (event.source !== 'steve') {
          outbox.event(event, '');
          return;
        }
        const fence = binlogFence();
        if (fence !== undefined) outbox.event(event, fence);
        else {
          counters.fencedOut++;
          outbox.unpublished([event]);
        }
      },
      sequenced(accept, unpublished) {
        sink = accept;
        outbox.onUnpublished(unpublished);
        return () => {
          sink = undefined;
          outbox.onUnpublished(() => undefined);
        };
      },
    },
    checkpoints,
    leadBinlog(inner) {
      leader = new BinlogLeader(inner, checkpoints, redis, keys, outbox, logger, () => caughtUp(redis, keys, () => reader.position));
      return leader;
    },
    calls,
    messages(log) {
      const page = clusterMessages(log, rpc, membership, me, config.rpcTimeoutMs);
      return { parseCursor: parseClusterCursor, page: (q, cursor) => page(q, cursor as Record<string, string> | undefined) };
    },
    tests,
    frames,
    webhookClaim: webhooks.claim,
    faults,
    simRest: (commands, simulatedHere, listHere) => routedSimRest({ commands, simulatedHere, listHere, nodeId: me, membership, rpc, timeoutMs: config.rpcTimeoutMs }),
    routeSim: (local, simulatedHere) => routedSim(local, simulatedHere, ownership, rpc, deps.callTimeoutMs + config.rpcTimeoutMs),
    stations() {
      const all = relay.stations().map((s) => ({ ...s, node: nodeId }));
      for (const peer of membership.peerStations()) for (const s of peer.stations) all.push({ ...s, node: peer.nodeId });
      return all;
    },
    health() {
      const up = redis.up && sub.up && reading.up;
      return {
        nodeId,
        redis: redis.health(),
        // What stops working while Redis is away; relaying does not.
        degraded: up ? [] : ['events from other nodes and this node\'s events to push clients wait', 'calls, fault rules and simulator control for stations on other nodes fail', 'binlog reading pauses once the lease ends', 'other nodes\' stations are not listed'],
        peers: membership.peers().map((p) => ({ nodeId: p.nodeId, stations: p.stationCount, binlogLeader: p.binlogLeader, lastSeenMs: Date.now() - p.at })),
        binlogLeader: lease.holder,
        stationsHeld: ownership.held,
        ownership: ownership.counters,
        stream: { ...counters, position: reader.position, outbox: outbox.queued, eventsWanted: wantedHere() },
        rpc: rpc.counters,
        webhookClaims: webhooks.counters,
        frames: frameCounters,
      };
    },
    eventsWanted(here) {
      askWanted = here;
      wanted = { at: 0, yes: true };
    },
    async settled() {
      // Without a quiet time reads are never paced. With one, the reader may be in a quiet wait even once someone
      // here waits for events (a client that just came): asked then, it reads at once.
      if (config.quietMs === 0) return;
      outbox.hurry();
      reader.wake();
      await caughtUp(redis, keys, () => reader.position, SETTLE_MS, 2).catch(() => undefined);
    },
    async start(port) {
      nodeId = config.nodeId ?? defaultNodeId(port);
      await Promise.all([redis.connect(), sub.connect(), reading.connect()]);
      rpc.start();
      offFrames = frames.start();
      ownership.start(bus);
      reader.start();
      position.follow(() => reader.position);
      membership.start();
      if (leader) lease.start();
      logger.info({ nodeId, redis: redis.up ? 'up' : 'down' }, 'cluster node started');
    },
    async stop() {
      offFrames?.();
      tests.stop();
      membership.stop();
      position.stop();
      await lease.stop();
      await leader?.stop();
      ownership.stop();
      rpc.stop();
      await membership.leave(nodeId);
      await reader.stop();
      redis.close();
      sub.close();
    },
  };
}
