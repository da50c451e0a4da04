// Composition root for one gateway instance: builds every module, wires them through the bus, and owns the
// start/stop order. main.ts adds process concerns (env, signals); tests and benchmarks use this directly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Config } from './config.js';
import { Bus } from './events/bus.js';
import type { LinkKind } from './events/catalogue.js';
import { createApiAuth, isDirectLoopback } from './api/auth.js';
import { createCallsRouter } from './api/calls-routes.js';
import { createFaultsRouter } from './api/faults-routes.js';
import { useJsonErrors } from './api/errors.js';
import { eventsRouter } from './api/events-routes.js';
import { createPushRouter, DEV_TOKEN_URL } from './api/push-routes.js';
import { riderDefaultsFromEnv, uiRouter } from './api/ui-routes.js';
import { vendorMessagesRouter } from './api/vendor-messages-routes.js';
import { createOcppSchemasRouter } from './api/ocpp-schemas-routes.js';
import { createPushServer, parsePushConfig, viewerPushStats, type PushHandle } from './push/index.js';
import { LiveMetrics } from './metrics/live-metrics.js';
import { BASE_RSS_BYTES, MemoryReport } from './metrics/memory.js';
import { YOUNG_GENERATION_EXTRA_BYTES } from './node-flags.js';
import { HeapGrowth } from './heap-growth.js';
import { healthRouter } from './api/health-routes.js';
import { messagesRouter } from './api/messages-routes.js';
import { createCdcReader, parseCdcConfig, type CdcReader } from './cdc/index.js';
import { parseEventsConfig } from './events/config.js';
import { createEventModel, VendorMessageError, type EventModel } from './events/index.js';
import { GatewayError } from './errors.js';
import { createMessageLog, type MessageLog } from './log/index.js';
import { parseSimConfig } from './sim/config.js';
import { runSimCommand } from './sim/commands.js';
import { createSimulator, type Simulator } from './sim/index.js';
import { scaledClock } from './sim/clock.js';
import { TestRuns } from './charger-tests/index.js';
import { createTests } from './api/tests-routes.js';
import { createTestCsRouter } from './api/test-cs-routes.js';
import { parseTestCsConfig, TestCentralSystem } from './upstream/test-cs/index.js';
import { envInt, envNumber, envString } from './config-env.js';
import { createConformance, type Conformance } from './conformance/index.js';
import { createConformanceRouter } from './api/conformance-routes.js';
import { createSerialLinks, parseSerialConfig, type SerialLinks } from './serial/index.js';
import { createStationEndpoint, STATION_PATH_PREFIX, type StationEndpoint } from './links/ws-server.js';
import { createStationAuthenticator, UpstreamPasswords } from './links/station-auth.js';
import { StationKeys } from './links/station-keys.js';
import { createLogger, type Logger } from './logger.js';
import type { LogSinkStats } from './log-sink.js';
import { AuthorizationKeyWatch } from './relay/authorization-key.js';
import { registerRelayMetrics } from './metrics/relay-metrics.js';
import { DEFAULT_OBSERVER_QUEUE_BYTES, FrameTap } from './relay/frame-tap.js';
import { PersistedOwnCallIds } from './relay/own-call-ids.js';
import { DECODER_MEMORY_BYTES } from './relay/frame-decoder.js';
import { Relay } from './relay/relay.js';
import { INBOX_MAX_BYTES } from './relay/station-inbox.js';
import { localFaultsAccess } from './relay/faults/index.js';
import { localUpstreamFactory } from './upstream/local-cs.js';
import { steveUpstreamFactory } from './upstream/steve-client.js';
import { TransactionIds } from './upstream/transaction-ids.js';
import { CloseCode } from './links/link.js';
import { parseConfigSubscriptions, parseWebhookLimits, Webhooks } from './webhooks/index.js';
import { Mirrors, parseConfigMirrors, parseMirrorLimits } from './mirror/index.js';
import { createCluster, parseClusterConfig, type Cluster } from './cluster/index.js';

export const VERSION = '0.1.0';

/** A bad vendor message file is a configuration error: main.ts prints it as one line and exits 2. */
function configError<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (err instanceof VendorMessageError) throw new GatewayError('GW_ERR_CONFIG', `vendor message files: ${err.message}`, { variable: 'EVENTS_VENDOR_MESSAGES_DIR' });
    throw err;
  }
}

/**
 * With a client CA (security profile 3) the server asks every peer for a certificate but lets all through the
 * TLS handshake: browsers and Socket.IO clients share the port and have none. Stations are checked per upgrade.
 */
function tlsServerOptions(tls: NonNullable<Config['tls']>): https.ServerOptions {
  const base = { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  return tls.clientCaFile ? { ...base, ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: false } : base;
}

export interface Gateway {
  readonly config: Config;
  readonly logger: Logger;
  readonly bus: Bus;
  readonly relay: Relay;
  readonly registry: Registry;
  readonly messageLog: MessageLog;
  readonly events: EventModel;
  /** The binlog reader, when STEVE_DB_URL is set. */
  readonly cdc: CdcReader | undefined;
  readonly serial: SerialLinks;
  readonly push: PushHandle;
  readonly sim: Simulator;
  /** What the embedded central system answers (embedded mode only). */
  readonly testCs: TestCentralSystem;
  /** Charger test runs (REST /api/stations/:id/tests, /api/tests). */
  readonly testRuns: TestRuns;
  /** Passive conformance findings on every station's frames (REST /api/conformance). */
  readonly conformance: Conformance;
  /** Events POSTed to subscribed URLs (REST /api/webhooks, docs/webhooks.md). */
  readonly webhooks: Webhooks;
  /** Read-only mirror upstreams beside the primary one (REST /api/mirrors, README "Mirror upstreams"). */
  readonly mirrors: Mirrors;
  readonly app: express.Express;
  readonly httpServer: http.Server;
  readonly mode: 'steve' | 'local';
  /** The bound port (differs from config.port when that is 0). */
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  readonly logger?: Logger;
  /** Runs the in-process simulated stations this many times faster than real time (tests of the test catalogue). */
  readonly simClockSpeed?: number;
  /** The process's log destination (main.ts): the lines it dropped are shown in health and metrics. */
  readonly logSink?: { stats(): LogSinkStats };
  /**
   * Sets V8's old-generation growth from the memory ceiling (src/heap-growth.ts). A process-wide V8 flag, so only
   * the process's one gateway may (main.ts); tests that run several gateways in one process leave it off.
   */
  readonly heapGrowth?: boolean;
}

/** The charger test suites shipped with the gateway (CHARGER_TESTS_DIR overrides). */
export const DEFAULT_CHARGER_TESTS_DIR = fileURLToPath(new URL('../charger-tests', import.meta.url));

export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'chargebridge_process_' });
  const logSink = options.logSink;
  if (logSink) {
    new Gauge({
      name: 'chargebridge_log_lines_dropped_total',
      help: 'Log lines not written to stdout since start: its reader was too slow (LOG_BUFFER_BYTES) or gone',
      registers: [registry],
      collect() {
        this.set(logSink.stats().dropped);
      },
    });
  }
  const bus = new Bus();
  const app = express();
  app.disable('x-powered-by');
  const httpServer: http.Server = config.tls ? https.createServer(tlsServerOptions(config.tls), app) : http.createServer(app);
  const stationKeys = new StationKeys({ dataDir: config.dataDir });
  const upstreamPasswords = new UpstreamPasswords();

  const mode = config.steveWsUrl ? 'steve' : 'local';
  const testCs = new TestCentralSystem(parseTestCsConfig(config.file, config.localHeartbeatIntervalS));
  const upstreams = config.steveWsUrl
    ? steveUpstreamFactory({
        baseUrl: config.steveWsUrl,
        ...(config.steveCaFile ? { caFile: config.steveCaFile } : {}),
        maxFrameBytes: config.maxFrameBytes,
        openTimeoutMs: config.upstreamOpenTimeoutMs,
        // A key SteVe set and the station presented wins over upstreamPassword (README: "Key rotation").
        passwordFor: (id) => upstreamPasswords.get(id) ?? config.stations[id]?.upstreamPassword,
      })
    : localUpstreamFactory({ testCs, transactionIds: new TransactionIds(config.dataDir) });

  const keyWatch = new AuthorizationKeyWatch({
    // Also a late answer (after the relay's timeout) says whether the station took the key.
    holdMs: 2 * config.callTimeoutMs,
    onAccepted: ({ chargeBoxId, key, setBy }) => {
      stationKeys.learn(chargeBoxId, key, setBy).then(
        () => logger.info({ chargeBoxId, setBy, keyLength: key.length, hexKey: /^[0-9a-fA-F]{32,40}$/.test(key) }, 'station accepted a new AuthorizationKey: from now on it must present it (stored hashed)'),
        (err: unknown) => logger.error({ chargeBoxId, err }, `AuthorizationKey accepted but not written to disk: it holds until the gateway restarts, then the station is refused; check that ${config.dataDir} is writable`),
      );
    },
  });
  const tap = new FrameTap(bus, (err) => logger.error({ err }, 'frame observer failed'), (obs) => keyWatch.sanitize(obs), {
    queueBytes: envInt(config.env, 'OBSERVER_QUEUE_BYTES', DEFAULT_OBSERVER_QUEUE_BYTES, 64 * 1024),
  });
  const mirrors: Mirrors = new Mirrors({
    dataDir: config.dataDir,
    limits: parseMirrorLimits(config.env, config.maxFrameBytes),
    configured: parseConfigMirrors(config.file),
    // A call a mirror may send goes to the station as one of the gateway's own (its answer never reaches SteVe).
    calls: (id, action, payload) => relay.call(id, action, payload),
    observe: (obs) => tap.frame(obs),
    logger,
    registry,
  });
  const relay: Relay = new Relay({
    upstreams,
    mirrors: mirrors.attach,
    upstreamKind: mode,
    tap,
    observedRawBytes: config.messageLog.maxRawBytes,
    logger,
    callTimeoutMs: config.callTimeoutMs,
    upstreamQueueLimit: config.upstreamQueueLimit,
    upstreamQueueBytes: config.upstreamQueueBytes,
    ownCallIds: new PersistedOwnCallIds(config.dataDir),
  });

  const countBy = <K extends string>(keys: K[]): Map<K, number> => {
    const m = new Map<K, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  registerRelayMetrics(bus, registry, {
    openLinks: () => countBy<LinkKind>(relay.stations().map((s) => s.linkKind)),
    upstreamStates: () => countBy(relay.stations().map((s) => s.upstream)),
  });

  const messageLog = createMessageLog({
    bus,
    dataDir: config.dataDir,
    retentionDays: config.messageLog.retentionDays,
    queueLimit: config.messageLog.queueLimit,
    queueBytes: config.messageLog.queueBytes,
    maxRawBytes: config.messageLog.maxRawBytes,
    logger,
    registry,
  });
  const eventsConfig = parseEventsConfig(config.env);
  const cdcConfig = parseCdcConfig(config.env);
  const riderDefaults = riderDefaultsFromEnv(config.env);
  // REDIS_URL: one of several nodes (src/cluster); the binlog reader then runs only under the cluster's lease.
  const clusterConfig = parseClusterConfig(config.env);
  const cluster: Cluster | undefined = clusterConfig
    ? createCluster({ config: clusterConfig, bus, relay, logger, dataDir: config.dataDir, registry, callTimeoutMs: config.callTimeoutMs, webhookQueueBytes: parseWebhookLimits(config.env).queueBytes })
    : undefined;
  const reader = cdcConfig ? createCdcReader({ config: cdcConfig, bus, logger, dataDir: config.dataDir, registry, ...(cluster ? { checkpoints: cluster.checkpoints } : {}) }) : undefined;
  const cdc: CdcReader | undefined = reader && cluster ? cluster.leadBinlog(reader) : reader;
  const events = configError(() => createEventModel({ bus, dataDir: config.dataDir, logger, binlogConfigured: cdc !== undefined, ...eventsConfig, ...(cluster ? { shared: cluster.sequencing } : {}) }));
  const calls = cluster?.calls ?? relay;
  const faults = cluster?.faults ?? localFaultsAccess(relay.faults);

  const serial = createSerialLinks({
    config: parseSerialConfig(config.env, config.file),
    attach: (link) => relay.attach(link),
    bus,
    logger,
    dataDir: config.dataDir,
    registry,
    ...(cluster ? { idScope: () => cluster.nodeId } : {}),
  });

  // Always built, so operators can create stations over REST even when none start with the gateway.
  const simClock = options.simClockSpeed !== undefined ? scaledClock(options.simClockSpeed) : undefined;
  const sim = createSimulator({
    config: parseSimConfig(config.env, config.file),
    attach: (link) => relay.attach(link),
    logger,
    dataDir: config.dataDir,
    ...(simClock !== undefined ? { clock: simClock } : {}),
  });

  const conformance = createConformance({
    bus,
    registry,
    maxSkewMs: envInt(config.env, 'CONFORMANCE_MAX_SKEW_S', 300, 1) * 1000,
    heartbeatSlackS: envNumber(config.env, 'CONFORMANCE_HEARTBEAT_SLACK_S', 5, 0, 3600),
    // Only a simulated station runs on the simulator's clock; it is looked up only when a clock speed was given.
    ...(options.simClockSpeed !== undefined ? { timeScale: (id: string) => (isSimulated(id) ? options.simClockSpeed ?? 1 : 1) } : {}),
  });

  const connected = (id: string): boolean => relay.stations().some((st) => st.chargeBoxId === id && (st.upstream === 'open' || st.upstream === 'local'));
  const isSimulated = (id: string): boolean => {
    try {
      sim.get(id);
      return true;
    } catch {
      return false;
    }
  };
  const testRuns = new TestRuns({
    bus,
    mode,
    calls: { call: (id, action, payload, opts) => relay.call(id, action, payload, opts), connected },
    testCs: mode === 'local' ? testCs : undefined,
    faults: relay.faults,
    hands: {
      simulated: isSimulated,
      timeScale: (id) => (isSimulated(id) ? options.simClockSpeed ?? 1 : 1),
      clockNow: (id) => (simClock !== undefined && isSimulated(id) ? simClock.now() : Date.now()),
      act: (id, action) => sim.act(id, action),
    },
  });

  const webhooks = new Webhooks({
    bus,
    dataDir: config.dataDir,
    limits: parseWebhookLimits(config.env),
    configured: parseConfigSubscriptions(config.file),
    logger,
    registry,
    ...(cluster ? { once: cluster.webhookClaim } : {}),
  });

  const simCommands = { command: (request: unknown) => runSimCommand(sim, request) };
  const simPort = cluster ? cluster.routeSim(simCommands, isSimulated) : simCommands;
  const liveMetrics = new LiveMetrics(bus);
  const pushConfig = parsePushConfig(config.env, config);
  const push = createPushServer({
    config: pushConfig,
    httpServer,
    bus,
    state: events.state,
    history: events.history,
    calls,
    sim: simPort,
    tests: { answer: (runId, askId, answer) => tests.answer(runId, askId, answer) },
    ...(cluster ? { remoteFrames: cluster.frames, settled: () => cluster.settled() } : {}),
    faults,
    metrics: () => {
      const stations = relay.stations();
      const binlog = cdc?.health();
      return {
        ...liveMetrics.snapshot(),
        links: Object.fromEntries(countBy<LinkKind>(stations.map((st) => st.linkKind))),
        upstreams: Object.fromEntries(countBy(stations.map((st) => st.upstream))),
        ...(binlog ? { binlog: { state: binlog.state, lagMs: binlog.lagSeconds === null ? null : binlog.lagSeconds * 1000 } } : {}),
        mirrors: mirrors.summaries().map(({ id, links, lagMs, dropped }) => ({ id, links, lagMs, dropped })),
      };
    },
    logger,
    registry,
  });
  // Cluster mode: events are read and appended promptly only while someone here or on a peer waits for them.
  cluster?.eventsWanted(() => push.stats().clients.total > 0 || webhooks.stats().subscriptions > 0);

  // The RSS ceiling: a measured base plus every byte budget (README "Memory").
  const memory = new MemoryReport(bus, {
    // The measured base plus the young generation the start command asks for (src/node-flags.ts).
    // The large-frame decoder's thread has a hard heap cap (garbage included): counted once, like the base.
    baseBytes: BASE_RSS_BYTES + YOUNG_GENERATION_EXTRA_BYTES + DECODER_MEMORY_BYTES,
    budgets: {
      global: {
        messageLogQueueBytes: config.messageLog.queueBytes,
        observerQueueBytes: tap.stats().queueBytes,
        eventHistoryBytes: eventsConfig.historyTotalBytes,
      },
      perStation: {
        // Strings of frames waiting for the upstream: up to 2 bytes per character.
        upstreamQueueBytes: 2 * config.upstreamQueueBytes,
        // A frame being received, its text and its parse.
        frameInFlightBytes: 3 * config.maxFrameBytes,
        // Frames waiting behind a large one on the decoder's thread: that one, then up to twice the budget (the link
        // stops reading past one budget; what it had read still comes) and one more.
        inboxBytes: 2 * config.maxFrameBytes + 2 * INBOX_MAX_BYTES,
      },
      perPushClient: {
        // Events are never queued per client (they wait in the history). The engine holds up to the byte budget
        // (in characters, ≤ 2 bytes each) plus the packet that crossed it, and one such batch is in the transport.
        frameQueueBytes: pushConfig.frameQueueBytes,
        socketBufferBytes: 2 * (2 * pushConfig.clientBufferBytes + 4 * Math.max(config.messageLog.maxRawBytes, eventsConfig.maxEventBytes)),
      },
    },
    used: () => {
      const log = messageLog.stats();
      return { observerQueuedBytes: tap.stats().queuedBytes, messageLogQueuedBytes: log.queuedBytes, eventHistoryBytes: events.history.budget().usedBytes };
    },
    drops: () => {
      const log = messageLog.stats();
      const history = events.history.budget();
      const p = push.stats().dropped;
      return {
        observerFrames: tap.stats().dropped,
        messageLogEntries: log.dropped,
        messageLogEntriesForBytes: log.droppedForBytes,
        eventHistoryForStationBytes: history.droppedForStationBytes,
        eventHistoryForTotalBytes: history.droppedForTotalBytes,
        eventsReplacedTooLarge: history.replaced,
        upstreamQueueCloses: relay.waitingOverflows,
        pushFramesLost: p.framesDropped,
        pushEventsDropped: p.eventsDropped,
        mirrorFramesDropped: mirrors.summaries().reduce((n, m) => n + m.dropped, 0),
      };
    },
    pushClients: () => push.stats().clients.total,
  }, registry);

  const heapGrowth =
    options.heapGrowth && config.heapGrowthMaxPercent > 0
      ? new HeapGrowth({ ceilingBytes: () => memory.ceilingBytes(), maxPercent: config.heapGrowthMaxPercent })
      : undefined;

  // Every route that reveals station data sits behind the JWT guard (Bearer header only).
  const auth = createApiAuth({
    verify: push.verifyToken,
    openOnLoopback: pushConfig.apiOpenOnLoopback,
    ...(pushConfig.devTokenEndpoint ? { publicPaths: [DEV_TOKEN_URL] } : {}),
  });
  app.use(['/api', '/metrics'], auth.guard);

  const startedAt = Date.now();
  app.use('/api', healthRouter({
    mode,
    ...(config.steveWsUrl ? { upstreamUrl: config.steveWsUrl.href } : {}),
    version: VERSION,
    startedAt,
    stations: () => cluster?.stations() ?? relay.stations(),
    sections: (scope) => ({
      ...(cluster ? { cluster: cluster.health() } : {}),
      // A bug in an observer never reaches the relay; it is logged and counted here.
      observerErrors: tap.observerErrors,
      // Frames observers fell too far behind to see (still relayed): OBSERVER_QUEUE_BYTES.
      observers: tap.stats(),
      // Large station frames decoded on the decoder's thread or, when it cannot take them, in place.
      largeFrames: relay.decoder.stats,
      // Counts only: which stations have learned keys is not shown.
      stationAuth: { learnedKeys: stationKeys.size, redactedFrames: keyWatch.redacted, mutualTls: config.tls?.clientCaFile !== undefined },
      messageLog: messageLog.stats(),
      events: events.stats(),
      serial: serial.ports(),
      binlog: cdc ? cdc.health() : { state: 'off', hint: 'set STEVE_DB_URL to follow SteVe through its binlog' },
      push: scope.operator ? push.stats() : viewerPushStats(push.stats(), scope.sub),
      simulator: sim.totals(),
      memory: { ...memory.snapshot(), ...(heapGrowth ? { heapGrowth: heapGrowth.stats() } : {}) },
      webhooks: webhooks.stats(),
      mirrors: mirrors.summaries(),
      // Log lines stdout's reader did not take (slow, stopped or gone): dropped, never waited for.
      ...(logSink ? { logging: logSink.stats() } : {}),
    }),
  }));
  // The message log is the frame stream's history: operators only, like the live stream.
  app.use('/api/messages', auth.require({ role: 'operator' }), messagesRouter(messageLog, cluster?.messages(messageLog)));
  app.use('/api/stations/:id/device-log', auth.requireStation('id'), serial.deviceLogRouter());
  // In a cluster, reads answered from this node's history first read what the shared stream holds (paced reads).
  if (cluster) app.use(['/api/events', '/api/transactions', '/api/stations/:id/state'], (_req, _res, next) => void cluster.settled().then(() => next()));
  app.use('/api', eventsRouter(events));
  // Cluster mode: stations simulated on other nodes, and the list of every node's (src/cluster/routed-sim-rest.ts).
  if (cluster) app.use('/api/sim', auth.require({ role: 'operator' }), cluster.simRest(simPort, isSimulated, () => sim.list()));
  app.use('/api/sim', auth.require({ role: 'operator' }), sim.router());
  app.use('/api/webhooks', auth.require({ role: 'operator' }), webhooks.router());
  app.use('/api/mirrors', auth.require({ role: 'operator' }), mirrors.router());
  app.use('/api/vendor-messages', auth.require({ role: 'operator' }), vendorMessagesRouter(events.vendorMessages));
  app.use('/api', createOcppSchemasRouter({ auth }));
  app.use('/api', createCallsRouter({ auth, calls, timeoutMs: pushConfig.callTimeoutMs }));
  app.use('/api', createFaultsRouter({ auth, faults }));
  app.use('/api', createTestCsRouter({ auth, testCs, mode }));
  app.use('/api', createConformanceRouter({ auth, conformance }));
  // Cluster mode: runs of stations held by other nodes start, run and are followed there (src/cluster/routed-tests.ts).
  const tests = createTests({ auth, runs: testRuns, casesDir: envString(config.env, 'CHARGER_TESTS_DIR') ?? DEFAULT_CHARGER_TESTS_DIR, connected, ...(cluster ? { elsewhere: cluster.tests } : {}) });
  app.use('/api', tests.router);
  app.use('/api', createPushRouter({
    auth,
    stats: () => push.stats(),
    ...(pushConfig.devTokenEndpoint ? { devToken: (r) => push.issueToken(r) } : {}),
  }));
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(uiRouter({ rider: riderDefaults, devTokenAvailable: pushConfig.devTokenEndpoint ? isDirectLoopback : () => false }));
  useJsonErrors(app, logger);

  let endpoint: StationEndpoint | undefined;
  let port = config.port;

  return {
    config,
    logger,
    bus,
    relay,
    registry,
    messageLog,
    events,
    cdc,
    serial,
    push,
    sim,
    testCs,
    testRuns,
    conformance,
    webhooks,
    mirrors,
    app,
    httpServer,
    mode,
    get port() {
      return port;
    },
    async start() {
      await events.start();
      webhooks.start();
      await messageLog.start();
      // Rejects only for a misconfigured database (binlog off, grants missing...): the message names the fix.
      await cdc?.start();
      push.start();
      stationKeys.load();
      endpoint = createStationEndpoint({
        server: httpServer,
        attach: (link) => relay.attach(link),
        logger,
        maxFrameBytes: config.maxFrameBytes,
        pingIntervalMs: config.pingIntervalMs,
        authenticate: createStationAuthenticator({
          passwordFor: (id) => config.stations[id]?.password,
          requireAuth: config.requireStationAuth,
          keys: stationKeys,
          mutualTls: config.tls?.clientCaFile !== undefined,
        }),
        upstreamPasswords,
      });
      // Socket.IO runs with destroyUpgrade off (it shares the server): upgrades nobody owns are refused here.
      httpServer.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
        const url = req.url ?? '';
        if (!url.startsWith(STATION_PATH_PREFIX) && !url.startsWith('/socket.io/')) {
          socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        }
      });
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      port = (httpServer.address() as AddressInfo).port;
      await cluster?.start(port);
      await serial.start();
      await sim.start();
      logger.info(
        { port, mode, upstream: config.steveWsUrl?.href ?? 'embedded local central system', tls: Boolean(config.tls) },
        mode === 'local'
          ? `gateway listening on :${port}; no STEVE_WS_URL set, so the embedded central system answers stations`
          : `gateway listening on :${port}; relaying stations to ${config.steveWsUrl?.href ?? ''}`,
      );
    },
    async stop() {
      await testRuns.stop();
      endpoint?.close();
      await serial.stop(); // boards hear "down: stopping" before their links close
      await sim.stop();
      relay.closeAll(CloseCode.goingAway, 'gateway shutting down');
      mirrors.stop();
      tap.flush();
      await cdc?.stop();
      await cluster?.stop();
      await stationKeys.settled();
      await messageLog.stop();
      await events.stop();
      await webhooks.stop();
      conformance.close();
      await push.stop();
      liveMetrics.close();
      memory.close();
      heapGrowth?.close();
      httpServer.closeAllConnections?.();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
