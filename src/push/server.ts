// The Socket.IO push server: JWT handshake, server-chosen rooms, per-socket backpressure, fan-out of
// sequenced events, summaries, the live frame stream and metrics. Bus listeners only copy and enqueue;
// nothing here can slow the relay.
import type http from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Bus } from '../events/bus.js';
import type { EventType, GatewayEvent } from '../events/catalogue.js';
import type { LogEntry } from '../events/observations.js';
import type { PushConfig } from './config.js';
import { operatorCallAck } from './calls.js';
import { fanOutPacket, type FanOutPacket } from './fanout-packet.js';
import { describeFilter, matchFrame, parseFrameFilter, type FrameFilter } from './frame-filter.js';
import { bearerToken, canSee, type Principal, type TokenVerifier } from './jwt.js';
import { Outbox, type Delivery, type OutboxItem } from './outbox.js';
import type { CallsPort, GatewayMetricsSnapshot, HistorySource, SimControlPort, StateSource, TestAnswerPort } from './ports.js';
import {
  fail,
  type ClientToServerEvents,
  type GoodbyeReason,
  type MetricsPush,
  type ReplayReport,
  type ServerToClientEvents,
  type ReplayAck,
  type StationSnapshotEntry,
  type SubscribeAck,
  type SubscribeRequest,
} from './protocol.js';
import { PushCounters, type ClientDrops, type PushStats } from './stats.js';

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
  readonly metrics: () => GatewayMetricsSnapshot;
  readonly verify: TokenVerifier;
  readonly logger: PushLogger;
}

interface SocketData {
  principal: Principal;
}
type PushSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

const ALL_ROOM = 'stations:all';
const stationRoom = (id: string): string => `station:${id}`;
const MAX_TIMEOUT_MS = 0x7fffffff;
/** After a slow-consumer goodbye, how long the engine may try to flush before the transport is cut. */
const SLOW_CLOSE_GRACE_MS = 2000;

/** Status, transactions, boot and link events are never dropped; a few chatty kinds may be. */
function deliveryOf(type: EventType): Delivery {
  if (type === 'meterValues') return 'coalesce';
  if (type === 'heartbeat' || type === 'deviceLog' || type === 'finding') return 'lossy';
  return 'keep';
}

class Client {
  /** Engine packets written but not yet handed to the transport. */
  pending = 0;
  readonly outbox: Outbox;
  frames: Outbox | undefined;
  frameFilter: FrameFilter | undefined;
  framesLostUnreported = 0;
  framesLost = 0;
  eventsCoalesced = 0;
  eventsDropped = 0;
  readonly stations = new Set<string>();
  all = false;
  metrics = false;
  closing = false;
  readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly socket: PushSocket,
    readonly principal: Principal,
    queueLimit: number,
  ) {
    this.outbox = new Outbox(queueLimit);
  }

  get queued(): number {
    return this.outbox.size + (this.frames?.size ?? 0);
  }
}

interface FanOutJob {
  readonly item: OutboxItem;
  /** Encoded once (text and WebSocket frame), written as is to each engine socket. */
  readonly packet: FanOutPacket | undefined;
  /** Socket ids, fixed when the event arrived: sockets that join later get it in their snapshot. */
  readonly targets: readonly string[];
  next: number;
}

// Socket.IO's typed emit cannot take a computed event name; queued items carry theirs as data.
function emitRaw(socket: PushSocket, name: string, payload: unknown): void {
  (socket as unknown as { emit(ev: string, payload: unknown): boolean }).emit(name, payload);
}

function setLongTimeout(fn: () => void, ms: number, into: NodeJS.Timeout[]): void {
  const wait = Math.max(0, Math.min(ms, MAX_TIMEOUT_MS));
  const t = setTimeout(() => (ms > MAX_TIMEOUT_MS ? setLongTimeout(fn, ms - MAX_TIMEOUT_MS, into) : fn()), wait);
  t.unref();
  into.push(t);
}

export class PushServer {
  readonly io: Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
  readonly #deps: PushServerDeps;
  readonly #clients = new Map<string, Client>();
  readonly #frameClients = new Set<Client>();
  /** Operators following charger test runs (`tests:subscribe`). */
  readonly #testClients = new Set<Client>();
  readonly #counters = new PushCounters();
  readonly #lastSeq = new Map<string, number>();
  readonly #lastSummary = new Map<string, string>();
  readonly #dirtySummaries = new Set<string>();
  #summaryScheduled = false;
  readonly #summaryWindows = new Map<string, NodeJS.Timeout>();
  readonly #summaryTrailing = new Set<string>();
  #unsubscribe: (() => void)[] = [];
  #metricsTimer: NodeJS.Timeout | undefined;
  /** Fan-outs in progress, oldest first. */
  readonly #jobs: FanOutJob[] = [];
  #jobsScheduled = false;

  constructor(deps: PushServerDeps) {
    this.#deps = deps;
    // destroyUpgrade: false leaves /ocpp/* upgrades to the station WebSocket server on the same HTTP server.
    this.io = new Server(deps.httpServer, { destroyUpgrade: false, serveClient: false, maxHttpBufferSize: 1_000_000 });
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
      // A few updates per test step: written straight to the subscribed operators.
      bus.on('testRun', (update) => {
        for (const c of this.#testClients) c.socket.emit('test', update);
      }),
    ];
    this.#metricsTimer = setInterval(() => this.#pushMetrics(), config.metricsIntervalMs);
    this.#metricsTimer.unref();
  }

  async stop(): Promise<void> {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.#jobs.length = 0;
    for (const t of this.#summaryWindows.values()) clearTimeout(t);
    this.#summaryWindows.clear();
    this.#summaryTrailing.clear();
    if (this.#metricsTimer) clearInterval(this.#metricsTimer);
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
      if (c.eventsCoalesced + c.eventsDropped + c.framesLost > 0) {
        withDrops.push({
          id: c.socket.id,
          sub: c.principal.sub,
          role: c.principal.role,
          queued: c.queued,
          eventsCoalesced: c.eventsCoalesced,
          eventsDropped: c.eventsDropped,
          framesDropped: c.framesLost,
        });
      }
    }
    withDrops.sort((a, b) => b.eventsDropped + b.framesDropped + b.eventsCoalesced - (a.eventsDropped + a.framesDropped + a.eventsCoalesced));
    const n = this.#counters;
    return {
      clients: { total: this.#clients.size, operators, viewers: this.#clients.size - operators },
      subscriptions: { stations, all, frames: this.#frameClients.size, metrics },
      pushed: { events: n.events, summaries: n.summaries, frames: n.frames, metrics: n.metrics },
      dropped: { eventsCoalesced: n.eventsCoalesced, eventsDropped: n.eventsDropped, framesDropped: n.framesDropped, summariesReplaced: n.summariesReplaced },
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
    const c = new Client(socket, socket.data.principal, config.queueLimit);
    this.#clients.set(socket.id, c);
    socket.conn.on('packetCreate', () => {
      c.pending++;
    });
    socket.conn.on('flush', () => {
      c.pending = 0;
    });
    socket.conn.on('drain', () => this.#pump(c));
    this.#scheduleExpiry(c);

    // Replayed events are written right after the ack, in the same tick, so no live event can come between.
    socket.on('subscribe', (req, ack) => {
      if (typeof ack !== 'function') return;
      const { result, replay } = this.#subscribe(c, req);
      ack(result);
      for (const [id, since] of replay) this.#replay(c, id, since);
    });
    socket.on('unsubscribe', (req, ack) => this.#withAck(ack, () => this.#unsubscribeStations(c, req)));
    socket.on('replay', (req, ack) => {
      if (typeof ack !== 'function') return;
      const result = this.#replayRequest(c, req);
      ack(result);
      if (result.ok) this.#replay(c, result.replay.chargeBoxId, result.replay.from);
    });
    socket.on('frames:subscribe', (filter, ack) => this.#withAck(ack, () => this.#setFrameFilter(c, filter)));
    socket.on('frames:filter', (filter, ack) => this.#withAck(ack, () => this.#setFrameFilter(c, filter)));
    socket.on('frames:unsubscribe', (ack) =>
      this.#withAck(ack, () => {
        this.#frameClients.delete(c);
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
    socket.on('tests:answer', (req, ack) =>
      this.#withAck(ack, () => {
        if (c.principal.role !== 'operator') return fail('forbidden', 'test runs are for operators');
        const tests = this.#deps.tests;
        if (!tests) return fail('not_connected', 'no test runs in this gateway');
        const r = typeof req === 'object' && req !== null ? (req as Record<string, unknown>) : {};
        const answer = r.answer ?? 'done';
        if (typeof r.runId !== 'string' || typeof r.askId !== 'string' || (answer !== 'done' && answer !== 'skipped')) {
          return fail('invalid_params', 'expected { runId, askId, answer?: "done" | "skipped" }');
        }
        const result = tests.answer(r.runId, r.askId, answer);
        if (result === 'ok') return { ok: true };
        return fail('invalid_params', result === 'no_run' ? `no test run ${r.runId}` : 'the run is not waiting for that answer (timed out or already answered)');
      }),
    );
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
    socket.on('disconnect', () => {
      c.closing = true;
      for (const t of c.timers) clearTimeout(t);
      c.outbox.clear();
      c.frames?.clear();
      this.#frameClients.delete(c);
      this.#testClients.delete(c);
      this.#clients.delete(socket.id);
    });
  }

  /** Runs a handler whose result is the ack; a client that sent no callback gets nothing. */
  #withAck<T>(ack: unknown, handler: () => T): void {
    if (typeof ack !== 'function') return;
    (ack as (r: T) => void)(handler());
  }

  #scheduleExpiry(c: Client): void {
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

  #goodbye(c: Client, reason: GoodbyeReason, message: string): void {
    if (c.closing) return;
    c.closing = true;
    c.outbox.clear();
    c.frames?.clear();
    if (reason === 'token_expired') this.#counters.tokenExpired++;
    if (reason === 'slow_consumer') {
      this.#counters.slowConsumer++;
      this.#deps.logger.warn({ sub: c.principal.sub, socket: c.socket.id }, 'push client too slow: disconnecting');
    }
    c.socket.emit('goodbye', { reason, message });
    // On shutdown the engine closes the transport: clients see "transport close" and reconnect by themselves.
    if (reason === 'shutdown') return;
    const conn = c.socket.conn;
    c.socket.disconnect(true);
    // A stuck reader never drains the engine buffer the close waits for; cut the transport after a grace.
    if (reason === 'slow_consumer') setTimeout(() => conn.close(true), SLOW_CLOSE_GRACE_MS).unref();
  }

  // --- subscriptions ---------------------------------------------------------------------------------

  #subscribe(c: Client, raw: unknown): { result: SubscribeAck; replay: [string, number][] } {
    const req = parseSubscribe(raw);
    if (typeof req === 'string') return { result: fail('invalid_params', req), replay: [] };
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
    const replay: ReplayReport[] = [];
    const toReplay: [string, number][] = [];
    for (const [id, since] of Object.entries(req.since ?? {})) {
      if (canSee(principal, id) && (c.all || c.stations.has(id))) toReplay.push([id, since]);
    }
    for (const [id, since] of toReplay) replay.push(this.#replayReport(id, since));
    return { result: { ok: true, stations, refused, all: c.all, replay }, replay: toReplay };
  }

  #unsubscribeStations(c: Client, raw: unknown) {
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

  #replayRequest(c: Client, raw: unknown): ReplayAck {
    if (typeof raw !== 'object' || raw === null) return fail('invalid_params', 'expected { chargeBoxId, since }');
    const { chargeBoxId, since } = raw as Record<string, unknown>;
    if (typeof chargeBoxId !== 'string' || typeof since !== 'number' || !Number.isInteger(since) || since < 0) {
      return fail('invalid_params', 'expected { chargeBoxId: string, since: integer >= 0 }');
    }
    if (!canSee(c.principal, chargeBoxId)) return fail('forbidden', `not allowed to see ${chargeBoxId}`);
    return { ok: true as const, replay: this.#replayReport(chargeBoxId, since) };
  }

  #snapshotEntry(id: string): StationSnapshotEntry {
    const { state } = this.#deps;
    const snapshot = state.snapshot(id);
    return { chargeBoxId: id, seq: snapshot?.seq ?? this.#lastSeq.get(id) ?? 0, snapshot: snapshot ?? null, summary: state.summary(id) ?? null };
  }

  #replayEvents(id: string, since: number): { events: readonly GatewayEvent[]; gap: boolean } {
    const all = this.#deps.history.since(id, since);
    const limit = this.#deps.config.replayLimit;
    const events = all.length > limit ? all.slice(0, limit) : all;
    const first = events[0];
    const newest = this.#lastSeq.get(id) ?? 0;
    const gap = all.length > limit || (first !== undefined ? first.seq > since + 1 : newest > since);
    return { events, gap };
  }

  #replayReport(id: string, since: number): ReplayReport {
    const { events, gap } = this.#replayEvents(id, since);
    return { chargeBoxId: id, from: since, count: events.length, gap };
  }

  #replay(c: Client, id: string, since: number): void {
    for (const ev of this.#replayEvents(id, since).events) this.#deliver(c, { name: 'event', payload: ev, delivery: 'keep' });
  }

  #setFrameFilter(c: Client, raw: unknown) {
    if (c.principal.role !== 'operator') return fail('forbidden', 'the frame stream is for operators');
    const parsed = parseFrameFilter(raw);
    if (!parsed.ok) return fail('invalid_params', parsed.message);
    c.frameFilter = parsed.filter;
    c.frames ??= new Outbox(this.#deps.config.frameQueueLimit);
    this.#frameClients.add(c);
    return { ok: true as const, filter: describeFilter(parsed.filter) };
  }

  // --- delivery --------------------------------------------------------------------------------------

  #backedUp(c: Client): boolean {
    return c.outbox.size > 0 || c.pending >= this.#deps.config.socketBufferPackets;
  }

  #count(name: string, n: number): void {
    const k = this.#counters;
    if (name === 'event') k.events += n;
    else if (name === 'summary') k.summaries += n;
    else if (name === 'frame') k.frames += n;
    else if (name === 'metrics') k.metrics += n;
  }

  /** To one client: straight to the socket when it keeps up, else through its outbox. */
  #deliver(c: Client, item: OutboxItem): void {
    if (c.closing) return;
    if (!this.#backedUp(c)) {
      emitRaw(c.socket, item.name, item.payload);
      this.#count(item.name, 1);
      return;
    }
    this.#enqueue(c, item);
  }

  #enqueue(c: Client, item: OutboxItem): void {
    switch (c.outbox.push(item)) {
      case 'coalesced':
        // A replaced summary or metrics sample loses nothing the newer one lacks; only events count as coalesced.
        if (item.name === 'event') {
          c.eventsCoalesced++;
          this.#counters.eventsCoalesced++;
        } else {
          this.#counters.summariesReplaced++;
        }
        break;
      case 'dropped':
        c.eventsDropped++;
        this.#counters.eventsDropped++;
        break;
      case 'overflow':
        this.#goodbye(c, 'slow_consumer', `could not keep up: more than ${c.outbox.limit} undeliverable events waiting`);
        break;
      case 'queued':
        break;
    }
  }

  #pump(c: Client): void {
    const limit = this.#deps.config.socketBufferPackets;
    while (!c.closing && c.pending < limit) {
      let item = c.outbox.shift();
      if (!item && c.frames) {
        item = c.frames.shift();
        if (item && c.framesLostUnreported > 0) this.#reportLostFrames(c);
      }
      if (!item) return;
      emitRaw(c.socket, item.name, item.payload);
      this.#count(item.name, 1);
    }
  }

  /**
   * To every socket in the station's room and the all-stations room. The packet is encoded once and written
   * to each engine socket in slices of `fanOutSlice`, yielding between slices, so a fan-out to thousands of
   * clients never holds the event loop (and with it the relay) for long. Jobs run in arrival order, so each
   * socket still sees events in seq order; a backed-up socket gets the item in its outbox instead.
   */
  #fanOut(chargeBoxId: string, item: OutboxItem & { name: 'event' | 'summary' }): void {
    const rooms = this.io.sockets.adapter.rooms;
    const station = rooms.get(stationRoom(chargeBoxId));
    const all = rooms.get(ALL_ROOM);
    if (!station && !all) return;
    const targets: string[] = station ? [...station] : [];
    all?.forEach((sid) => {
      if (!station?.has(sid)) targets.push(sid);
    });
    // Socket.IO's own wire form of socket.emit(name, payload) on the main namespace (type 2 = EVENT).
    const encoded: unknown[] = this.io.encoder.encode({ type: 2, nsp: '/', data: [item.name, item.payload] });
    const packet = encoded.length === 1 && typeof encoded[0] === 'string' ? fanOutPacket(encoded[0]) : undefined;
    this.#jobs.push({ item, packet, targets, next: 0 });
    if (this.#jobs.length === 1 && !this.#jobsScheduled) this.#runJobs();
  }

  #runJobs(): void {
    let budget = this.#deps.config.fanOutSlice;
    while (budget > 0) {
      const job = this.#jobs[0];
      if (!job) return;
      const end = Math.min(job.targets.length, job.next + budget);
      budget -= end - job.next;
      let direct = 0;
      for (; job.next < end; job.next++) {
        const c = this.#clients.get(job.targets[job.next]!);
        if (!c || c.closing) continue;
        if (this.#backedUp(c)) {
          this.#enqueue(c, job.item);
        } else {
          // Binary attachments never occur in our JSON events; the fallback keeps that assumption safe.
          if (job.packet !== undefined) c.socket.conn.write(job.packet.text, job.packet.options);
          else emitRaw(c.socket, job.item.name, job.item.payload);
          direct++;
        }
      }
      this.#count(job.item.name, direct);
      if (job.next === job.targets.length) this.#jobs.shift();
    }
    if (this.#jobs.length > 0 && !this.#jobsScheduled) {
      this.#jobsScheduled = true;
      setImmediate(() => {
        this.#jobsScheduled = false;
        this.#runJobs();
      });
    }
  }

  #onEvent(ev: GatewayEvent): void {
    this.#lastSeq.set(ev.chargeBoxId, ev.seq);
    // Nobody watches this station: no fan-out, no summary (a later subscriber gets both in its snapshot).
    const rooms = this.io.sockets.adapter.rooms;
    if (!rooms.has(stationRoom(ev.chargeBoxId)) && !rooms.has(ALL_ROOM)) return;
    const delivery = deliveryOf(ev.type);
    this.#fanOut(ev.chargeBoxId, {
      name: 'event',
      payload: ev,
      delivery,
      ...(delivery === 'coalesce' ? { key: `m:${ev.chargeBoxId}:${ev.connectorId ?? 0}` } : {}),
    });
    this.#dirtySummaries.add(ev.chargeBoxId);
    if (!this.#summaryScheduled) {
      this.#summaryScheduled = true;
      // After every bus listener (the state store included) has seen this event.
      queueMicrotask(() => this.#flushSummaries());
    }
  }

  #flushSummaries(): void {
    this.#summaryScheduled = false;
    const ids = [...this.#dirtySummaries];
    this.#dirtySummaries.clear();
    for (const id of ids) {
      // Within a station's window the change waits for the window's end (latest state wins).
      if (this.#summaryWindows.has(id)) this.#summaryTrailing.add(id);
      else this.#sendSummary(id);
    }
  }

  /**
   * At most one summary per station per `summaryIntervalMs`: the first change goes out at once, later ones in
   * the window are folded into one at its end. A summary is a second packet per client per event; sent
   * with every meter value it would double the writes of a busy station's fan-out.
   */
  #sendSummary(id: string): void {
    const summary = this.#deps.state.summary(id);
    if (!summary) return;
    const json = JSON.stringify(summary);
    if (this.#lastSummary.get(id) === json) return;
    this.#lastSummary.set(id, json);
    this.#fanOut(id, { name: 'summary', payload: { ...summary, seq: this.#lastSeq.get(id) ?? 0 }, delivery: 'coalesce', key: `s:${id}` });
    const timer = setTimeout(() => {
      this.#summaryWindows.delete(id);
      if (this.#summaryTrailing.delete(id)) this.#sendSummary(id);
    }, this.#deps.config.summaryIntervalMs);
    timer.unref();
    this.#summaryWindows.set(id, timer);
  }

  #reportLostFrames(c: Client): void {
    c.socket.emit('frames:lost', { lost: c.framesLostUnreported, totalLost: c.framesLost });
    c.framesLostUnreported = 0;
  }

  #onFrame(entry: LogEntry): void {
    for (const c of this.#frameClients) {
      if (c.closing || !c.frameFilter || !c.frames || !matchFrame(c.frameFilter, entry)) continue;
      if (!this.#backedUp(c) && c.frames.size === 0) {
        if (c.framesLostUnreported > 0) this.#reportLostFrames(c);
        c.socket.emit('frame', entry);
        this.#counters.frames++;
      } else if (c.frames.push({ name: 'frame', payload: entry, delivery: 'lossy' }) === 'dropped') {
        c.framesLost++;
        c.framesLostUnreported++;
        this.#counters.framesDropped++;
      }
    }
  }

  #pushMetrics(): void {
    let payload: MetricsPush | undefined;
    for (const c of this.#clients.values()) {
      if (!c.metrics || c.closing) continue;
      payload ??= { at: new Date().toISOString(), gateway: this.#deps.metrics(), push: this.stats() };
      this.#deliver(c, { name: 'metrics', payload, delivery: 'coalesce', key: 'metrics' });
    }
  }
}

function parseSubscribe(raw: unknown): SubscribeRequest | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected { chargeBoxIds: [...] } or { all: true }';
  const r = raw as Record<string, unknown>;
  const all = r.all === true;
  const ids = r.chargeBoxIds;
  if (!all && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id !== ''))) {
    return 'chargeBoxIds must be an array of non-empty strings (or pass all: true)';
  }
  let since: Record<string, number> | undefined;
  if (r.since !== undefined) {
    if (typeof r.since !== 'object' || r.since === null || Array.isArray(r.since)) return 'since must map chargeBoxId to the last seq held';
    since = {};
    for (const [id, seq] of Object.entries(r.since as Record<string, unknown>)) {
      if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return `since.${id} must be an integer >= 0`;
      since[id] = seq;
    }
  }
  return { all, ...(Array.isArray(ids) ? { chargeBoxIds: ids as string[] } : {}), ...(since ? { since } : {}) };
}
