// The Socket.IO push server: JWT handshake, server-chosen rooms, subscriptions with snapshots and resumes,
// replays, the live frame stream, metrics, and the slow-consumer watch. Bus listeners only hand events to
// the fan-out; writing is paced per socket (paced-delivery.ts), so nothing here can slow the relay.
import type http from 'node:http';
import { Server } from 'socket.io';
import type { Bus } from '../events/bus.js';
import type { GatewayEvent } from '../events/catalogue.js';
import type { LogEntry } from '../events/observations.js';
import type { PushConfig } from './config.js';
import { operatorCallAck } from './calls.js';
import { faultsCommand } from './faults.js';
import type { FaultsAccess } from '../relay/faults/index.js';
import { PushClient, type PushSocket, type SocketData } from './client.js';
import { ALL_ROOM, FanOut, stationRoom } from './fanout.js';
import { FleetFeed } from './fleet-feed.js';
import { describeFilter, matchFrame, parseFrameFilter } from './frame-filter.js';
import { bearerToken, canSee, type TokenVerifier } from './jwt.js';
import { FrameQueue } from './frame-queue.js';
import { PacedDelivery, reportLostFrames } from './paced-delivery.js';
import type { CallsPort, GatewayMetricsSnapshot, HistorySource, RemoteFramesPort, SimControlPort, StateSource, TestAnswerPort } from './ports.js';
import {
  fail,
  type ClientToServerEvents,
  type GoodbyeReason,
  type MetricsPush,
  type ReplayAck,
  type ReplayReport,
  type ServerToClientEvents,
  type StationSnapshotEntry,
  type SubscribeAck,
} from './protocol.js';
import { parseReplay, parseSubscribe } from './requests.js';
import { PushCounters, type ClientDrops, type PushStats } from './stats.js';
import { SummaryThrottle } from './summaries.js';

export interface PushLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface PushServerDeps {
  readonly config: PushConfig;
  readonly httpServer: http.Server;
  readonly bus: Bus;
  readonly state: StateSource;
  readonly history: HistorySource;
  readonly calls: CallsPort;
  readonly sim?: SimControlPort;
  readonly tests?: TestAnswerPort;
  readonly faults?: FaultsAccess;
  /** Cluster mode: frames of stations held by other nodes. */
  readonly remoteFrames?: RemoteFramesPort;
  /**
   * Cluster mode: resolves once this node has read what the shared stream holds. A subscription waits for it, so its
   * snapshot and replay are not behind a node that was reading the stream at a quiet pace (CLUSTER_QUIET_MS).
   */
  readonly settled?: () => Promise<void>;
  readonly metrics: () => GatewayMetricsSnapshot;
  readonly verify: TokenVerifier;
  readonly logger: PushLogger;
}

const MAX_TIMEOUT_MS = 0x7fffffff;

function setLongTimeout(fn: () => void, ms: number, into: NodeJS.Timeout[]): void {
  const wait = Math.max(0, Math.min(ms, MAX_TIMEOUT_MS));
  const t = setTimeout(() => (ms > MAX_TIMEOUT_MS ? setLongTimeout(fn, ms - MAX_TIMEOUT_MS, into) : fn()), wait);
  t.unref();
  into.push(t);
}

interface RawWebSocket {
  readonly bufferedAmount: number;
  terminate(): void;
}

/** The raw `ws` socket under an engine.io connection, when it is on the WebSocket transport. */
function rawWebSocket(socket: PushSocket): RawWebSocket | undefined {
  const ws = (socket.conn.transport as unknown as { socket?: { terminate?: unknown; bufferedAmount?: unknown } }).socket;
  return typeof ws?.terminate === 'function' && typeof ws.bufferedAmount === 'number' ? (ws as RawWebSocket) : undefined;
}

export class PushServer {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  readonly #deps: PushServerDeps;
  readonly #clients = new Map<string, PushClient>();
  readonly #frameClients = new Set<PushClient>();
  /** Operators following charger test runs (`tests:subscribe`). */
  readonly #testClients = new Set<PushClient>();
  readonly #counters = new PushCounters();
  readonly #lastSeq = new Map<string, number>();
  readonly #delivery: PacedDelivery;
  readonly #fanOut: FanOut;
  readonly #summaries: SummaryThrottle;
  readonly #fleet: FleetFeed;
  #unsubscribe: (() => void)[] = [];
  #metricsTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #stallCheckMs = 1000;
  #lastStallCheck = Date.now();

  constructor(deps: PushServerDeps) {
    this.#deps = deps;
    const { config } = deps;
    // destroyUpgrade: false leaves /ocpp/* upgrades to the station WebSocket server on the same HTTP server.
    this.io = new Server(deps.httpServer, { destroyUpgrade: false, serveClient: false, maxHttpBufferSize: 1_000_000 });
    const lastSeq = (id: string): number => this.#newestSeq(id);
    this.#delivery = new PacedDelivery({
      history: deps.history,
      state: deps.state,
      counters: this.#counters,
      lastSeq,
      metrics: () => this.#metricsPayload(),
      socketBufferPackets: config.socketBufferPackets,
      directWrites: config.directWrites,
      clientBufferBytes: config.clientBufferBytes,
    });
    this.#fanOut = new FanOut({
      io: this.io,
      slice: config.fanOutSlice,
      client: (sid) => this.#clients.get(sid),
      deliver: (c, id, item, packet) => {
        if (item.name === 'event') this.#delivery.event(c, item.payload, packet);
        else this.#delivery.summary(c, id, item.payload, packet);
      },
    });
    this.#summaries = new SummaryThrottle({
      state: deps.state,
      intervalMs: config.summaryIntervalMs,
      lastSeq,
      send: (id, payload) => this.#fanOut.push(id, { name: 'summary', payload }),
    });
    this.#fleet = new FleetFeed({
      state: deps.state,
      intervalMs: config.fleetIntervalMs,
      counters: this.#counters,
      hasRoom: (c) => this.#delivery.hasRoom(c),
      encoder: this.io.encoder,
    });
    this.io.use((socket, next) => {
      const result = deps.verify(this.#handshakeToken(socket));
      if (!result.ok) {
        this.#counters.refused(result.code);
        deps.logger.debug({ code: result.code, remoteAddress: socket.handshake.address }, 'push handshake refused');
        next(Object.assign(new Error(result.message), { data: { code: result.code, message: result.message } }));
        return;
      }
      socket.data.principal = result.principal;
      next();
    });
    this.io.on('connection', (socket) => this.#onConnection(socket));
  }

  start(): void {
    if (this.#unsubscribe.length > 0) return;
    const { bus, config } = this.#deps;
    this.#unsubscribe = [
      bus.on('event', (ev) => this.#onEvent(ev)),
      bus.on('logged', (entry) => this.#onFrame(entry)),
      ...(this.#deps.remoteFrames ? [this.#deps.remoteFrames.on((entry) => this.#onFrame(entry))] : []),
      // A few updates per test step: written straight to the subscribed operators.
      bus.on('testRun', (update) => {
        for (const c of this.#testClients) c.socket.emit('test', update);
      }),
    ];
    this.#fleet.start();
    this.#metricsTimer = setInterval(() => this.#pushMetrics(), config.metricsIntervalMs);
    this.#metricsTimer.unref();
    this.#stallCheckMs = Math.min(1000, Math.ceil(config.stallTimeoutMs / 4));
    this.#lastStallCheck = Date.now();
    this.#stallTimer = setInterval(() => this.#cutStalled(), this.#stallCheckMs);
    this.#stallTimer.unref();
  }

  async stop(): Promise<void> {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#fanOut.clear();
    this.#summaries.stop();
    this.#fleet.stop();
    if (this.#metricsTimer) clearInterval(this.#metricsTimer);
    if (this.#stallTimer) clearInterval(this.#stallTimer);
    for (const c of this.#clients.values()) this.#goodbye(c, 'shutdown', 'gateway is shutting down');
    // Not io.close(): that would close the shared HTTP server, which belongs to the gateway.
    this.io.engine.close();
  }

  stats(): PushStats {
    let operators = 0;
    let stations = 0;
    let all = 0;
    let metrics = 0;
    const withDrops: ClientDrops[] = [];
    for (const c of this.#clients.values()) {
      if (c.principal.role === 'operator') operators++;
      stations += c.stations.size;
      if (c.all) all++;
      if (c.metrics) metrics++;
      if (c.eventsLost + c.framesLost > 0) {
        withDrops.push({
          id: c.socket.id,
          sub: c.principal.sub,
          role: c.principal.role,
          queued: c.waiting,
          gaps: c.gaps,
          eventsDropped: c.eventsLost,
          framesDropped: c.framesLost,
        });
      }
    }
    withDrops.sort((a, b) => b.eventsDropped + b.framesDropped - (a.eventsDropped + a.framesDropped));
    const n = this.#counters;
    return {
      clients: { total: this.#clients.size, operators, viewers: this.#clients.size - operators },
      subscriptions: { stations, all, fleet: this.#fleet.size, frames: this.#frameClients.size, metrics },
      pushed: { events: n.events, summaries: n.summaries, fleet: n.fleet, frames: n.frames, metrics: n.metrics },
      dropped: { eventsDropped: n.eventsDropped, framesDropped: n.framesDropped, summariesReplaced: n.summariesReplaced },
      disconnects: { slowConsumer: n.slowConsumer, tokenExpired: n.tokenExpired },
      authRefusals: { ...n.authRefusals },
      clientsWithDrops: withDrops.slice(0, 20),
    };
  }

  // --- handshake and per-socket life ---------------------------------------------------------------

  /** handshake.auth.token first, then Authorization: Bearer. The query string is never read. */
  #handshakeToken(socket: PushSocket): string | undefined {
    const auth: unknown = socket.handshake.auth;
    const token: unknown = typeof auth === 'object' && auth !== null ? (auth as { token?: unknown }).token : undefined;
    if (token === undefined || token === null) return bearerToken(socket.handshake.headers.authorization);
    // A non-string token is malformed rather than missing.
    return typeof token === 'string' ? token : 'not-a-string';
  }

  #onConnection(socket: PushSocket): void {
    const { config } = this.#deps;
    // The engine handed what waited to the transport, or the WebSocket's socket drained: room for more.
    const c: PushClient = new PushClient(socket, socket.data.principal, () => this.#delivery.pump(c));
    this.#clients.set(socket.id, c);
    this.#scheduleExpiry(c);

    // Resumed events follow the ack: it is written first, they are read from the history as the socket drains.
    socket.on('subscribe', (req, ack) => {
      if (typeof ack !== 'function') return;
      const answer = (): void => {
        ack(this.#subscribe(c, req));
        this.#delivery.pump(c);
      };
      const settled = this.#deps.settled;
      if (settled) void settled().then(answer, answer);
      else answer();
    });
    // The page's liveness probe: an ack proves the whole path still carries packets both ways.
    socket.on('alive', (ack) => this.#withAck(ack, () => ({ ok: true })));
    socket.on('unsubscribe', (req, ack) => this.#withAck(ack, () => this.#unsubscribeStations(c, req)));
    socket.on('fleet:subscribe', (ack) => this.#withAck(ack, () => ({ ok: true as const, stations: this.#fleet.subscribe(c), intervalMs: config.fleetIntervalMs })));
    socket.on('fleet:unsubscribe', (ack) =>
      this.#withAck(ack, () => {
        this.#fleet.unsubscribe(c);
        return { ok: true as const };
      }),
    );
    socket.on('replay', (req, ack) => {
      if (typeof ack !== 'function') return;
      ack(this.#replayRequest(c, req));
      this.#delivery.pump(c);
    });
    socket.on('frames:subscribe', (filter, ack) => this.#withAck(ack, () => this.#setFrameFilter(c, filter)));
    socket.on('frames:filter', (filter, ack) => this.#withAck(ack, () => this.#setFrameFilter(c, filter)));
    socket.on('frames:unsubscribe', (ack) =>
      this.#withAck(ack, () => {
        this.#frameClients.delete(c);
        this.#deps.remoteFrames?.want(this.#frameClients.size > 0);
        c.frames = undefined;
        c.frameFilter = undefined;
        return { ok: true };
      }),
    );
    socket.on('tests:subscribe', (ack) =>
      this.#withAck(ack, () => {
        if (c.principal.role !== 'operator') return fail('forbidden', 'test runs are for operators');
        this.#testClients.add(c);
        return { ok: true };
      }),
    );
    socket.on('tests:answer', (req, ack) => {
      if (typeof ack !== 'function') return;
      if (c.principal.role !== 'operator') return ack(fail('forbidden', 'test runs are for operators'));
      const tests = this.#deps.tests;
      if (!tests) return ack(fail('not_connected', 'no test runs in this gateway'));
      const r = typeof req === 'object' && req !== null ? (req as Record<string, unknown>) : {};
      const answer = r.answer ?? 'done';
      if (typeof r.runId !== 'string' || typeof r.askId !== 'string' || (answer !== 'done' && answer !== 'skipped')) {
        return ack(fail('invalid_params', 'expected { runId, askId, answer?: "done" | "skipped" }'));
      }
      const runId = r.runId;
      void tests.answer(runId, r.askId, answer).then((result) => {
        if (result === 'ok') return ack({ ok: true });
        if (typeof result === 'object') return ack(fail('unreachable', result.unreachable));
        ack(fail('invalid_params', result === 'no_run' ? `no test run ${runId}` : 'the run is not waiting for that answer (timed out or already answered)'));
      }, (err: unknown) => ack(fail('internal', String(err))));
    });
    socket.on('tests:unsubscribe', (ack) =>
      this.#withAck(ack, () => {
        this.#testClients.delete(c);
        return { ok: true };
      }),
    );
    socket.on('metrics:subscribe', (ack) =>
      this.#withAck(ack, () => {
        if (c.principal.role !== 'operator') return fail('forbidden', 'metrics are for operators');
        c.metrics = true;
        return { ok: true };
      }),
    );
    socket.on('metrics:unsubscribe', (ack) =>
      this.#withAck(ack, () => {
        c.metrics = false;
        return { ok: true };
      }),
    );
    socket.on('call', (req, ack) => {
      if (typeof ack !== 'function') return;
      if (c.principal.role !== 'operator') return ack(fail('forbidden', 'calls are for operators'));
      if (Date.now() >= c.principal.expiresAt) return ack(fail('unauthorized', 'token expired'));
      void operatorCallAck(this.#deps.calls, config.callTimeoutMs, req).then(ack, (err: unknown) => ack(fail('internal', String(err))));
    });
    socket.on('sim', (req, ack) => {
      if (typeof ack !== 'function') return;
      if (c.principal.role !== 'operator') return ack(fail('forbidden', 'simulator control is for operators'));
      if (Date.now() >= c.principal.expiresAt) return ack(fail('unauthorized', 'token expired'));
      const sim = this.#deps.sim;
      if (!sim) return ack(fail('not_connected', 'no simulator in this gateway'));
      void sim.command(req).then(ack, (err: unknown) => ack(fail('internal', String(err))));
    });
    socket.on('faults', (req, ack) => {
      if (typeof ack !== 'function') return;
      if (c.principal.role !== 'operator') return ack(fail('forbidden', 'fault injection is for operators'));
      if (Date.now() >= c.principal.expiresAt) return ack(fail('unauthorized', 'token expired'));
      const faults = this.#deps.faults;
      if (!faults) return ack(fail('not_connected', 'no fault injection in this gateway'));
      void faultsCommand(faults, c.principal, req).then(ack, (err: unknown) => ack(fail('internal', String(err))));
    });
    socket.on('disconnect', () => {
      c.forget();
      this.#fleet.unsubscribe(c);
      if (this.#frameClients.delete(c)) this.#deps.remoteFrames?.want(this.#frameClients.size > 0);
      this.#testClients.delete(c);
      this.#clients.delete(socket.id);
    });
  }

  /** Runs a handler whose result is the ack; a client that sent no callback gets nothing. */
  #withAck<T>(ack: unknown, handler: () => T): void {
    if (typeof ack !== 'function') return;
    (ack as (r: T) => void)(handler());
  }

  #scheduleExpiry(c: PushClient): void {
    const { expiryWarningMs } = this.#deps.config;
    const left = c.principal.expiresAt - Date.now();
    if (expiryWarningMs > 0) {
      setLongTimeout(
        () => c.socket.emit('tokenExpiring', { expiresAt: new Date(c.principal.expiresAt).toISOString(), inMs: Math.max(0, c.principal.expiresAt - Date.now()) }),
        left - expiryWarningMs,
        c.timers,
      );
    }
    setLongTimeout(() => this.#goodbye(c, 'token_expired', 'token expired: reconnect with a fresh token'), left, c.timers);
  }

  /** Sockets with bytes waiting that drained nothing for the stall timeout are slow consumers. */
  #cutStalled(): void {
    const now = Date.now();
    const { stallTimeoutMs } = this.#deps.config;
    // A late check means our own event loop was held up (GC, CPU): that time is not the clients' fault.
    const late = now - this.#lastStallCheck - this.#stallCheckMs;
    this.#lastStallCheck = now;
    for (const c of this.#clients.values()) {
      if (c.closing) continue;
      // Fan-out writes go straight to the WebSocket (direct-write.ts): its own buffer counts as waiting too.
      const buffered = c.socketBuffered;
      if (c.waitingPackets === 0 && buffered === 0) {
        c.lastDrainAt = now;
        c.lastBuffered = Number.POSITIVE_INFINITY;
        continue;
      }
      if (late > this.#stallCheckMs) c.lastDrainAt = Math.min(now, c.lastDrainAt + late);
      // Within a batch the transport is writing, the socket's own buffer shrinking is progress too (slow links).
      if (buffered < c.lastBuffered) c.lastDrainAt = now;
      c.lastBuffered = buffered;
      if (c.stalled(now, stallTimeoutMs, buffered)) {
        this.#goodbye(c, 'slow_consumer', `the connection took nothing for ${Math.round((now - c.lastDrainAt) / 1000)} s: reconnect and resume with since`);
      }
    }
  }

  /**
   * Only a refusal (an expired token) is an explicit Socket.IO disconnect: socket.io-client then stays away
   * until told to connect. Every other goodbye closes the transport, so the client sees `transport close`
   * and reconnects by itself with backoff, then resumes with `since`.
   */
  #goodbye(c: PushClient, reason: GoodbyeReason, message: string): void {
    if (c.closing) return;
    c.socket.emit('goodbye', { reason, message });
    c.forget();
    if (reason === 'token_expired') {
      this.#counters.tokenExpired++;
      c.socket.disconnect(true);
      return;
    }
    // On shutdown the engine closes every transport itself.
    if (reason === 'shutdown') return;
    this.#counters.slowConsumer++;
    this.#deps.logger.warn({ sub: c.principal.sub, socket: c.socket.id, waitingBytes: c.waitingBytes }, 'push client stopped reading: closing its transport');
    // A stuck reader never reads a close frame: drop the TCP connection at once.
    const ws = rawWebSocket(c.socket);
    c.socket.conn.close(true);
    ws?.terminate();
  }

  // --- subscriptions ---------------------------------------------------------------------------------

  #subscribe(c: PushClient, raw: unknown): SubscribeAck {
    const req = parseSubscribe(raw);
    if (typeof req === 'string') return fail('invalid_params', req);
    const { principal, socket } = c;
    let allowed: string[];
    let refused: string[] = [];
    if (req.all) {
      if (principal.chargers === 'all') {
        c.all = true;
        void socket.join(ALL_ROOM);
        allowed = [...this.#deps.state.ids()];
      } else {
        allowed = [...principal.chargers];
      }
    } else {
      const ids = [...new Set(req.chargeBoxIds ?? [])];
      allowed = ids.filter((id) => canSee(principal, id));
      refused = ids.filter((id) => !canSee(principal, id));
    }
    // Explicit rooms even under "all", so a later unsubscribe({all}) by an operator leaves nothing behind.
    for (const id of allowed) {
      if (!c.all && !c.stations.has(id)) void socket.join(stationRoom(id));
      if (!c.all) c.stations.add(id);
    }
    // Snapshot and room join happen in the same tick as the bus listeners run, so no event falls between them.
    const stations: StationSnapshotEntry[] = allowed.map((id) => this.#snapshotEntry(id));
    for (const s of stations) this.#delivery.resumeAt(c, s.chargeBoxId, s.seq);
    const replay: ReplayReport[] = [];
    const limit = this.#deps.config.replayLimit;
    for (const [id, since] of Object.entries(req.since ?? {})) {
      if (!canSee(principal, id) || !c.watches(id)) continue;
      const available = this.#deps.history.since(id, since);
      // More missed than the limit: the newest `limit` follow (up to the live stream), the older ones are the gap.
      const cut = available.length > limit;
      const from = cut ? available[available.length - limit - 1]!.seq : since;
      replay.push({ chargeBoxId: id, from: since, count: Math.min(limit, available.length), gap: cut || this.#gapAfter(id, since, available) });
      this.#delivery.resumeAt(c, id, from);
    }
    return { ok: true, stations, refused, all: c.all, replay };
  }

  #unsubscribeStations(c: PushClient, raw: unknown) {
    const req = parseSubscribe(raw);
    if (typeof req === 'string') return fail('invalid_params', req);
    const ids = req.all ? [...c.stations] : (req.chargeBoxIds ?? []);
    if (req.all && c.all) {
      c.all = false;
      void c.socket.leave(ALL_ROOM);
    }
    for (const id of ids) {
      if (c.stations.delete(id)) void c.socket.leave(stationRoom(id));
    }
    return { ok: true as const, subscribed: [...c.stations], all: c.all };
  }

  /** Explicit replays are limited to PUSH_REPLAY_LIMIT events and written as the socket drains. */
  #replayRequest(c: PushClient, raw: unknown): ReplayAck {
    const req = parseReplay(raw);
    if (typeof req === 'string') return fail('invalid_params', req);
    const { chargeBoxId: id, since } = req;
    if (!canSee(c.principal, id)) return fail('forbidden', `not allowed to see ${id}`);
    const available = this.#deps.history.since(id, since);
    const limit = this.#deps.config.replayLimit;
    const events = available.length > limit ? available.slice(0, limit) : available;
    const last = events.at(-1);
    if (last) this.#delivery.replay(c, id, since, last.seq);
    return { ok: true, replay: { chargeBoxId: id, from: since, count: events.length, gap: available.length > limit || this.#gapAfter(id, since, available) } };
  }

  /** Some events after `since` are no longer in the history. */
  #gapAfter(id: string, since: number, available: readonly GatewayEvent[]): boolean {
    const first = available[0];
    return first !== undefined ? first.seq > since + 1 : this.#newestSeq(id) > since;
  }

  /** Newest seq of a station: seen on the bus, or (after a restart, before any new event) in the history. */
  #newestSeq(id: string): number {
    return this.#lastSeq.get(id) ?? this.#deps.history.lastSeq(id);
  }

  #snapshotEntry(id: string): StationSnapshotEntry {
    const { state } = this.#deps;
    const snapshot = state.snapshot(id);
    return { chargeBoxId: id, seq: snapshot?.seq ?? this.#newestSeq(id), snapshot: snapshot ?? null, summary: state.summary(id) ?? null };
  }

  #setFrameFilter(c: PushClient, raw: unknown) {
    if (c.principal.role !== 'operator') return fail('forbidden', 'the frame stream is for operators');
    const parsed = parseFrameFilter(raw);
    if (!parsed.ok) return fail('invalid_params', parsed.message);
    c.frameFilter = parsed.filter;
    c.frames ??= new FrameQueue(this.#deps.config.frameQueueLimit, this.#deps.config.frameQueueBytes);
    this.#frameClients.add(c);
    this.#deps.remoteFrames?.want(true);
    return { ok: true as const, filter: describeFilter(parsed.filter) };
  }

  // --- live sources ----------------------------------------------------------------------------------

  #onEvent(ev: GatewayEvent): void {
    this.#lastSeq.set(ev.chargeBoxId, ev.seq);
    this.#fleet.changed(ev);
    // Nobody watches this station: no fan-out, no summary (a later subscriber gets both in its snapshot).
    if (!this.#fanOut.watched(ev.chargeBoxId)) return;
    // The summary's microtask first, the fan-out's after it: a summary due now joins the event's fan-out job.
    this.#summaries.changed(ev.chargeBoxId);
    this.#fanOut.push(ev.chargeBoxId, { name: 'event', payload: ev });
  }

  #onFrame(entry: LogEntry): void {
    for (const c of this.#frameClients) {
      if (c.closing || !c.frameFilter || !c.frames || !matchFrame(c.frameFilter, entry)) continue;
      if (this.#delivery.hasRoom(c) && c.frames.size === 0) {
        if (c.framesLostUnreported > 0) reportLostFrames(c);
        c.socket.emit('frame', entry);
        this.#counters.frames++;
      } else if (!c.frames.push(entry)) {
        c.framesLost++;
        c.framesLostUnreported++;
        this.#counters.framesDropped++;
      }
    }
  }

  #metricsPayload(): MetricsPush {
    return { at: new Date().toISOString(), gateway: this.#deps.metrics(), push: this.stats() };
  }

  #pushMetrics(): void {
    let payload: MetricsPush | undefined;
    for (const c of this.#clients.values()) {
      if (!c.metrics || c.closing) continue;
      payload ??= this.#metricsPayload();
      this.#delivery.metrics(c, payload);
    }
  }
}
