// The relay: pairs every StationLink with an upstream (SteVe or the embedded central system) and moves frames
// byte for byte, in order, both ways. Per frame it does only what forwarding needs (parse, pending-call
// bookkeeping); observers get a copy through the FrameTap afterwards.
import type pino from 'pino';
import { GatewayError } from '../errors.js';
import type { LinkKind, Mutable } from '../events/catalogue.js';
import type { Direction, Disposition, FrameObservation, Leg, Origin, UpstreamState } from '../events/observations.js';
import { CloseCode, type StationLink } from '../links/link.js';
import { isCallErrorCode, toOcpp16Code } from '../ocpp/errors.js';
import { FRAME_HEAD_BYTES, readFrameHead } from '../ocpp/frame-head.js';
import {
  CALL, CALLERROR, encodeCall, encodeCallError, MAX_ECHOED_ID_LENGTH, MAX_FRAME_DEPTH, messageTypeName, parseFrame, tooDeep,
  type CallError, type Frame, type FrameProblem, type FrameProblemKind,
} from '../ocpp/frames.js';
import { clip, clipBytes, describeJson, nestingExceeds } from '../ocpp/wire-text.js';
import type { Upstream, UpstreamFactory, UpstreamFailure, UpstreamKind } from '../upstream/upstream.js';
import { FaultRegistry, type FaultSink, type StationFaults } from './faults/index.js';
import { FrameTap, nowUs } from './frame-tap.js';
import type { OwnCallIds } from './own-call-ids.js';
import { PendingCalls, type CallOwner } from './pending-calls.js';

export type CallOutcome =
  | { readonly kind: 'result'; readonly payload: unknown; readonly rttMs: number }
  | { readonly kind: 'error'; readonly code: string; readonly description: string; readonly details: unknown; readonly rttMs: number }
  | { readonly kind: 'timeout' }
  /** The link went before an answer came: the station closed it, the upstream failed, or the gateway ended it. */
  | { readonly kind: 'disconnected'; readonly side: DisconnectSide; readonly reason: string };

/** Which side ended a station's session: 'gateway' covers shutdown, replacement and the gateway's own limits. */
export type DisconnectSide = 'station' | 'upstream' | 'gateway';

export interface StationInfo {
  readonly chargeBoxId: string;
  readonly linkKind: LinkKind;
  readonly remoteAddress?: string;
  readonly connectedSince: string;
  readonly upstream: UpstreamState;
  readonly lastFrameAt?: string;
  readonly counters: { readonly fromStation: number; readonly toStation: number; readonly refused: number; readonly timeouts: number };
  readonly pendingCalls: { readonly fromStation: number; readonly toStation: number };
  readonly lastError?: string;
}

export interface RelayOptions {
  readonly upstreams: UpstreamFactory;
  readonly upstreamKind: UpstreamKind;
  readonly tap: FrameTap;
  readonly logger: pino.Logger;
  readonly callTimeoutMs: number;
  readonly upstreamQueueLimit: number;
  /** Characters of frames allowed to wait per station while its upstream opens (default 16 Mi). */
  readonly upstreamQueueBytes?: number;
  /** Message ids for the gateway's own calls (unique across restarts). */
  readonly ownCallIds: OwnCallIds;
  /** Bytes of own calls that may wait for one station (the one in flight not counted); default 1 MiB. */
  readonly ownCallQueueBytes?: number;
}

const OWN_CALL_QUEUE_BYTES = 1024 * 1024;

interface OwnCall {
  readonly id: string;
  readonly action: string;
  readonly payload: unknown;
  /** The CALL as sent, encoded once when it is accepted (its size is checked against the link's limit). */
  readonly text: string;
  readonly size: number;
  readonly timeoutMs: number;
  readonly resolve: (outcome: CallOutcome) => void;
}

interface InFlightOwnCall {
  readonly id: string;
  readonly sentAt: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: CallOutcome) => void;
}

/** Why a station's frame is refused, and what the refusal owes: a CALLERROR to a CALL's id, an error to a waiting call. */
type Refusal = Pick<FrameProblem, 'message' | 'messageId' | 'isCall'> & { readonly kind?: FrameProblemKind };

export const DEFAULT_UPSTREAM_QUEUE_BYTES = 16 * 1024 * 1024;

/** A refused frame is observed (logged, streamed) as its first this many characters: enough to see what is wrong. */
export const REFUSED_RAW_CHARS = 4096;

/** Close reasons travel in a WebSocket close frame: at most 123 bytes. */
function closeReason(text: string): string {
  const buf = Buffer.from(text);
  return buf.length <= 123 ? text : buf.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

class StationSession {
  readonly fromStation = new PendingCalls();
  readonly toStation = new PendingCalls();
  readonly ownQueue: OwnCall[] = [];
  ownQueueBytes = 0;
  ownInFlight: InFlightOwnCall | undefined;
  upstream: Upstream | undefined;
  upstreamState: UpstreamState = 'connecting';
  /** Frames from the station that arrived while the upstream was still opening. */
  waiting: string[] = [];
  /** Total length of `waiting`, against upstreamQueueBytes. */
  waitingBytes = 0;
  closed = false;
  readonly connectedSince = new Date().toISOString();
  lastFrameAt: number | undefined;
  lastError: string | undefined;
  readonly counters = { fromStation: 0, toStation: 0, refused: 0, timeouts: 0 };
  /** Set only while the station has fault rules: otherwise one undefined check per frame. */
  faults: StationFaults | undefined;

  constructor(readonly link: StationLink) {}
}

export class Relay {
  readonly #sessions = new Map<string, StationSession>();
  readonly #sweeper: NodeJS.Timeout;
  #waitingOverflows = 0;
  /** Fault rules per station (src/relay/faults); REST, Socket.IO and test cases set them here. */
  readonly faults = new FaultRegistry();

  constructor(private readonly options: RelayOptions) {
    this.faults.bindTo({
      sinkFor: (id) => {
        const s = this.#sessions.get(id);
        return s && !s.closed ? this.#faultSink(s) : undefined;
      },
      bind: (id, faults) => {
        const s = this.#sessions.get(id);
        if (s && !s.closed) s.faults = faults;
      },
    });
    // One sweep a second finds calls nobody answered; no timer per frame on the hot path.
    this.#sweeper = setInterval(() => this.#expireCalls(), 1000);
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Stations closed (1013) because too many frames or bytes waited for their upstream to open. */
  get waitingOverflows(): number {
    return this.#waitingOverflows;
  }

  /** Takes over a freshly connected station link. A link with the id of a live one replaces it. */
  attach(link: StationLink): void {
    const id = link.chargeBoxId;
    const previous = this.#sessions.get(id);
    if (previous) {
      this.options.logger.warn({ chargeBoxId: id, linkKind: link.kind, previousLinkKind: previous.link.kind }, 'second connection for this chargeBoxId replaces the first');
      this.#end(previous, CloseCode.policyViolation, 'replaced by a new connection for the same chargeBoxId', true);
    }
    const session = new StationSession(link);
    this.#sessions.set(id, session);
    this.options.tap.link({
      kind: 'connected',
      chargeBoxId: id,
      linkKind: link.kind,
      upstream: this.options.upstreamKind,
      ...(link.remoteAddress !== undefined ? { remoteAddress: link.remoteAddress } : {}),
      at: session.connectedSince,
    });
    this.options.logger.info({ chargeBoxId: id, linkKind: link.kind, remoteAddress: link.remoteAddress }, 'station connected');

    link.attach({
      message: (text) => this.#fromStation(session, text),
      messageBytes: (bytes) => this.#fromStationBytes(session, bytes),
      refused: (description) => {
        session.counters.refused++;
        this.#observe(session, 'station', 'in', 'station', 'refused', `<${description}>`, undefined, description);
      },
      close: (code, reason) => {
        if (this.#sessions.get(id) === session) this.#sessions.delete(id);
        this.#end(session, code, reason, false);
      },
    });

    session.upstream = this.options.upstreams(id, {
      open: () => this.#upstreamOpen(session),
      message: (text) => this.#fromUpstream(session, text),
      close: (failure) => this.#upstreamClosed(session, failure),
    });
    session.faults = this.faults.attached(id, this.#faultSink(session));
  }

  /**
   * Sends a call of the gateway's own to a station (operator commands). It waits behind any call SteVe has in
   * flight to that station, uses its own message-id namespace, and its answer never reaches SteVe. A call larger
   * than the link says the station accepts is refused here (GW_ERR_CALL_TOO_LARGE): sent, it would cost the link.
   */
  call(chargeBoxId: string, action: string, payload: unknown, opts: { timeoutMs?: number } = {}): Promise<CallOutcome> {
    const session = this.#sessions.get(chargeBoxId);
    if (!session || session.closed) {
      return Promise.reject(new GatewayError('GW_ERR_STATION_NOT_CONNECTED', `station ${chargeBoxId} is not connected`, { chargeBoxId }));
    }
    const id = this.options.ownCallIds.next();
    const text = encodeCall(id, action, payload);
    const limit = session.link.maxMessageBytes;
    const size = Buffer.byteLength(text);
    if (limit !== undefined && size > limit) {
      const message = `the call is ${size} bytes; station ${chargeBoxId} accepts messages of at most ${limit} bytes`;
      return Promise.reject(new GatewayError('GW_ERR_CALL_TOO_LARGE', message, { chargeBoxId, size, limit }));
    }
    const budget = this.options.ownCallQueueBytes ?? OWN_CALL_QUEUE_BYTES;
    if (session.ownQueueBytes + size > budget) {
      const message = `station ${chargeBoxId} already has ${session.ownQueue.length} calls (${session.ownQueueBytes} bytes) waiting; at most ${budget} bytes may wait`;
      this.options.logger.warn({ chargeBoxId, action, queued: session.ownQueue.length, bytes: session.ownQueueBytes }, 'own call refused: queue full');
      return Promise.reject(new GatewayError('GW_ERR_CALL_QUEUE_FULL', message, { chargeBoxId, queued: session.ownQueue.length, bytes: session.ownQueueBytes, limit: budget }));
    }
    session.ownQueueBytes += size;
    return new Promise((resolve) => {
      session.ownQueue.push({ id, action, payload, text, size, timeoutMs: opts.timeoutMs ?? this.options.callTimeoutMs, resolve });
      this.#pumpOwnCalls(session);
    });
  }

  stations(): StationInfo[] {
    return [...this.#sessions.values()].map((s) => ({
      chargeBoxId: s.link.chargeBoxId,
      linkKind: s.link.kind,
      ...(s.link.remoteAddress !== undefined ? { remoteAddress: s.link.remoteAddress } : {}),
      connectedSince: s.connectedSince,
      upstream: s.upstreamState,
      ...(s.lastFrameAt !== undefined ? { lastFrameAt: new Date(s.lastFrameAt).toISOString() } : {}),
      counters: { ...s.counters },
      pendingCalls: { fromStation: s.fromStation.size, toStation: s.toStation.size },
      ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    }));
  }

  /** Closes every link and upstream with the given code (shutdown). */
  closeAll(code: number, reason: string): void {
    clearInterval(this.#sweeper);
    this.faults.close();
    for (const session of [...this.#sessions.values()]) {
      this.#sessions.delete(session.link.chargeBoxId);
      this.#end(session, code, reason, true);
    }
  }

  // ── station → upstream ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * A large frame, still bytes. One that can never pass whatever the rest holds (an id too long to echo, an answer to
   * no pending call, nesting past the limit) is refused from its first FRAME_HEAD_BYTES, so it is never decoded or
   * parsed whole; any other goes the usual way. Fault rules see every frame's text, so with rules nothing is skipped.
   */
  #fromStationBytes(session: StationSession, bytes: Buffer): void {
    if (session.faults !== undefined) return this.#fromStation(session, bytes.toString('utf8'), false, bytes);
    const headText = bytes.toString('utf8', 0, FRAME_HEAD_BYTES);
    const head = readFrameHead(headText);
    const unread = ` (a frame of ${bytes.length} bytes, not read further)`;
    let refusal: Refusal | undefined;
    if (head?.idTooLong) {
      refusal = { message: `message id longer than ${MAX_ECHOED_ID_LENGTH} characters${unread}`, isCall: head.type === CALL };
    } else if (head?.id !== undefined && head.type !== CALL && session.toStation.peek(head.id) === undefined) {
      refusal = { message: `answer to unknown message id ${head.id}${unread}`, messageId: head.id, isCall: false };
    } else if (nestingExceeds(headText, MAX_FRAME_DEPTH)) {
      refusal = tooDeep(headText); // deep already in its head: the whole frame is deeper still
    }
    if (refusal === undefined) return this.#fromStation(session, bytes.toString('utf8'), false, bytes);
    session.lastFrameAt = Date.now();
    this.#refuseFromStation(session, clipBytes(bytes, REFUSED_RAW_CHARS), refusal, performance.now());
  }

  /**
   * `pastFaults`: a frame a fault rule let through (delayed, held, duplicated) is not offered to the rules again.
   * `bytes`: the frame as the link received it (large frames), written upstream as is when the frame passes.
   */
  #fromStation(session: StationSession, text: string, pastFaults = false, bytes?: Buffer): void {
    const t0 = performance.now();
    session.lastFrameAt = Date.now();
    if (session.faults !== undefined && !pastFaults && session.faults.intercept('station', text)) return;
    const parsed = parseFrame(text);
    if (!parsed.ok) return this.#refuseFromStation(session, clip(text, REFUSED_RAW_CHARS), parsed.problem, t0);
    const frame = parsed.frame;
    if (frame.type === CALL) {
      session.fromStation.add(frame.id, { action: frame.action, owner: 'station', sentAt: t0, deadline: t0 + this.options.callTimeoutMs });
      this.#toUpstream(session, text, frame, t0, frame.action, undefined, bytes);
      return;
    }
    // An answer: to SteVe's call, to the gateway's own, or to nobody.
    const call = session.toStation.take(frame.id);
    if (!call) {
      session.counters.refused++;
      this.#observe(session, 'station', 'in', 'station', 'refused', text, frame, `answer to unknown message id ${frame.id}`);
      return;
    }
    const rttMs = t0 - call.sentAt;
    if (call.owner === 'gateway') {
      this.#settleOwnCall(session, frame, rttMs);
      this.#observe(session, 'station', 'in', 'station', 'own', text, frame, undefined, undefined, call.action, rttMs);
      this.#pumpOwnCalls(session);
      return;
    }
    if (frame.type === CALLERROR && !isCallErrorCode(frame.code)) {
      // SteVe closes the socket on a code outside OCPP 1.6: it gets the nearest 1.6 code, the original in words.
      session.counters.refused++;
      const code = toOcpp16Code(frame.code);
      const sent = describeJson(frame.code);
      this.#observe(session, 'station', 'in', 'station', 'refused', text, frame, `CALLERROR code ${sent} is not an OCPP 1.6 code: the central system got ${code}`, undefined, call.action, rttMs);
      const description = `${clip(frame.description, 400)} (the station's error code was ${sent})`;
      this.#answerUpstream(session, { type: CALLERROR, id: frame.id, code, description, details: frame.details }, call.action, rttMs, t0);
      this.#pumpOwnCalls(session);
      return;
    }
    this.#toUpstream(session, text, frame, t0, call.action, rttMs, bytes);
    this.#pumpOwnCalls(session);
  }

  /**
   * Never forwarded: SteVe would close the socket with 1011. A CALL with an id to answer gets a CALLERROR; a malformed
   * answer to a pending call is replaced by an error, so the call does not hang. `raw` is the frame clipped.
   */
  #refuseFromStation(session: StationSession, raw: string, problem: Refusal, t0: number): void {
    session.counters.refused++;
    this.#observe(session, 'station', 'in', 'station', 'refused', raw, undefined, problem.message, problem.messageId);
    if (problem.messageId === undefined) return;
    if (problem.isCall) {
      const code = problem.kind === 'bad-action' ? 'NotImplemented' : 'FormationViolation';
      this.#answerStation(session, { type: CALLERROR, id: problem.messageId, code, description: problem.message, details: {} });
    } else {
      this.#replaceAnswer(session, { type: CALLERROR, id: problem.messageId, code: 'GenericError', description: `the station's answer was malformed: ${problem.message}`, details: {} }, t0);
    }
  }

  #toUpstream(session: StationSession, text: string, frame: Frame, t0: number, action: string, rttMs?: number, bytes?: Buffer): void {
    session.counters.fromStation++;
    if (!this.#sendUpstream(session, text, frame, bytes)) return;
    this.#observe(session, 'station', 'in', 'station', 'forwarded', text, frame, undefined, undefined, action, rttMs, t0);
  }

  /** Writes to the upstream, or holds the frame while it opens; false when too many wait and the session ended. */
  #sendUpstream(session: StationSession, text: string, frame?: Frame, bytes?: Buffer): boolean {
    if (session.upstreamState === 'open' || session.upstreamState === 'local') {
      session.upstream?.send(text, frame, bytes);
    } else if (session.upstreamState === 'connecting') {
      const maxBytes = this.options.upstreamQueueBytes ?? DEFAULT_UPSTREAM_QUEUE_BYTES;
      const overCount = session.waiting.length >= this.options.upstreamQueueLimit;
      if (overCount || session.waitingBytes + text.length > maxBytes) {
        this.#waitingOverflows++;
        const what = overCount ? `${this.options.upstreamQueueLimit} frames` : `${maxBytes} bytes`;
        this.#end(session, CloseCode.tryAgainLater, `upstream still opening: more than ${what} waiting`, true);
        return false;
      }
      session.waiting.push(text);
      session.waitingBytes += text.length;
    }
    return true;
  }

  #answerStation(session: StationSession, error: CallError): void {
    const text = encodeCallError(error.id, error.code, error.description);
    session.link.send(text);
    this.#observe(session, 'station', 'out', 'gateway', 'answered', text, error);
  }

  /** A CALLERROR the gateway writes to the upstream in place of a station's answer it could not forward. */
  #answerUpstream(session: StationSession, error: CallError, action: string, rttMs: number, t0: number): void {
    const text = encodeCallError(error.id, error.code, error.description, error.details as Record<string, unknown>);
    if (!this.#sendUpstream(session, text)) return;
    this.#observe(session, 'upstream', 'out', 'gateway', 'answered', text, error, undefined, undefined, action, rttMs, t0);
  }

  /** The station's answer to `error.id` was unusable: whoever is waiting for it gets `error` instead. */
  #replaceAnswer(session: StationSession, error: CallError, t0: number): void {
    const call = session.toStation.take(error.id);
    if (!call) return; // an answer to nobody: refused, nothing more to do
    const rttMs = t0 - call.sentAt;
    if (call.owner === 'gateway') this.#settleOwnCall(session, error, rttMs);
    else this.#answerUpstream(session, error, call.action, rttMs, t0);
    this.#pumpOwnCalls(session);
  }

  // ── upstream → station ─────────────────────────────────────────────────────────────────────────────────────

  #upstreamOpen(session: StationSession): void {
    if (session.closed) return;
    session.upstreamState = session.upstream?.kind === 'local' ? 'local' : 'open';
    this.options.tap.link({ kind: 'upstream', chargeBoxId: session.link.chargeBoxId, state: session.upstreamState, at: new Date().toISOString() });
    const waiting = session.waiting;
    session.waiting = [];
    session.waitingBytes = 0;
    for (const text of waiting) session.upstream?.send(text);
  }

  #fromUpstream(session: StationSession, text: string, pastFaults = false): void {
    if (session.closed) return;
    if (session.faults !== undefined && !pastFaults && session.faults.intercept('upstream', text)) return;
    const t0 = performance.now();
    const origin: Origin = session.upstream?.kind === 'local' ? 'local-cs' : 'steve';
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      session.counters.refused++;
      this.#observe(session, 'upstream', 'in', origin, 'refused', clip(text, REFUSED_RAW_CHARS), undefined, parsed.problem.message, parsed.problem.messageId);
      return;
    }
    const frame = parsed.frame;
    let action: string | undefined;
    let rttMs: number | undefined;
    if (frame.type === CALL) {
      action = frame.action;
      const owner: CallOwner = origin;
      session.toStation.add(frame.id, { action, owner, sentAt: t0, deadline: t0 + this.options.callTimeoutMs });
    } else {
      const call = session.fromStation.take(frame.id);
      if (call) {
        action = call.action;
        rttMs = t0 - call.sentAt;
      }
    }
    session.counters.toStation++;
    session.link.send(text);
    this.#observe(session, 'upstream', 'in', origin, 'forwarded', text, frame, action === undefined && frame.type !== CALL ? `answer to unknown message id ${frame.id}` : undefined, undefined, action, rttMs, t0);
  }

  #upstreamClosed(session: StationSession, failure: UpstreamFailure): void {
    if (session.closed) return;
    session.lastError = failure.message;
    this.options.logger.warn({ chargeBoxId: session.link.chargeBoxId, failure }, 'upstream closed: closing the station link');
    const code = failure.kind === 'refused' ? CloseCode.policyViolation : CloseCode.tryAgainLater;
    this.#sessions.delete(session.link.chargeBoxId);
    this.#end(session, code, failure.message, true, 'upstream');
  }

  // ── the gateway's own calls ────────────────────────────────────────────────────────────────────────────────

  #pumpOwnCalls(session: StationSession): void {
    // OCPP-J allows one outstanding call per direction: wait until nothing is in flight to the station.
    if (session.closed || session.ownInFlight || session.toStation.size > 0) return;
    const next = session.ownQueue.shift();
    if (!next) return;
    session.ownQueueBytes -= next.size;
    const { id, text } = next;
    const sentAt = performance.now();
    const timer = setTimeout(() => {
      session.toStation.take(id);
      session.ownInFlight = undefined;
      session.counters.timeouts++;
      next.resolve({ kind: 'timeout' });
      this.#reportTimeout(session, 'station', next.action, id);
      this.#pumpOwnCalls(session);
    }, next.timeoutMs);
    session.ownInFlight = { id, sentAt, timer, resolve: next.resolve };
    session.toStation.add(id, { action: next.action, owner: 'gateway', sentAt, deadline: Number.POSITIVE_INFINITY });
    session.link.send(text);
    this.#observe(session, 'station', 'out', 'gateway', 'own', text, { type: CALL, id, action: next.action, payload: next.payload }, undefined, undefined, next.action);
  }

  #settleOwnCall(session: StationSession, frame: Frame, rttMs: number): void {
    const own = session.ownInFlight;
    if (!own || own.id !== frame.id) return;
    clearTimeout(own.timer);
    session.ownInFlight = undefined;
    if (frame.type === CALLERROR) {
      own.resolve({ kind: 'error', code: frame.code, description: frame.description, details: frame.details, rttMs });
    } else if (frame.type !== CALL) {
      own.resolve({ kind: 'result', payload: frame.payload, rttMs });
    }
  }

  // ── timeouts, teardown, observation ────────────────────────────────────────────────────────────────────────

  #expireCalls(): void {
    const now = performance.now();
    for (const session of this.#sessions.values()) {
      for (const [id, call] of session.fromStation.expire(now)) {
        session.counters.timeouts++;
        this.#reportTimeout(session, 'upstream', call.action, id);
      }
      let freed = false;
      for (const [id, call] of session.toStation.expire(now)) {
        session.counters.timeouts++;
        freed = true;
        this.#reportTimeout(session, 'station', call.action, id);
      }
      if (freed) this.#pumpOwnCalls(session);
    }
  }

  #reportTimeout(session: StationSession, leg: Leg, action: string, messageId: string): void {
    this.options.logger.warn({ chargeBoxId: session.link.chargeBoxId, leg, action, messageId }, 'call unanswered after the timeout');
    this.options.tap.link({ kind: 'callTimeout', chargeBoxId: session.link.chargeBoxId, leg, action, messageId, at: new Date().toISOString() });
  }

  /**
   * Ends a session once: closes the upstream at once and, when asked, the station link. A link the gateway closes
   * itself was ended by the gateway unless `side` says otherwise; one that closed on its own, by the station.
   */
  #end(session: StationSession, code: number, reason: string, closeLink: boolean, side: DisconnectSide = closeLink ? 'gateway' : 'station'): void {
    if (session.closed) return;
    session.closed = true;
    const id = session.link.chargeBoxId;
    if (session.faults) this.faults.detached(id, session.faults);
    session.faults = undefined;
    session.upstream?.close(CloseCode.normal, closeReason(`station ${id} disconnected`));
    session.upstreamState = 'closed';
    if (closeLink) session.link.close(code, closeReason(reason));
    const gone: CallOutcome = { kind: 'disconnected', side, reason };
    if (session.ownInFlight) {
      clearTimeout(session.ownInFlight.timer);
      session.ownInFlight.resolve(gone);
      session.ownInFlight = undefined;
    }
    for (const own of session.ownQueue.splice(0)) own.resolve(gone);
    session.ownQueueBytes = 0;
    session.fromStation.clear();
    session.toStation.clear();
    session.waiting = [];
    session.waitingBytes = 0;
    this.options.tap.link({ kind: 'disconnected', chargeBoxId: id, linkKind: session.link.kind, code, reason, at: new Date().toISOString() });
    this.options.logger.info({ chargeBoxId: id, code, reason }, 'station disconnected');
  }

  /** What fault rules may do to a session: re-enter the relay past the rules, write raw, read pending calls, end it. */
  #faultSink(s: StationSession): FaultSink {
    return {
      chargeBoxId: s.link.chargeBoxId,
      linkKind: s.link.kind,
      process: (from, text) => (s.closed ? undefined : from === 'station' ? this.#fromStation(s, text, true) : this.#fromUpstream(s, text, true)),
      toStation: (text) => (s.closed ? undefined : s.link.send(text)),
      toUpstream: (text) => (s.closed ? undefined : void this.#sendUpstream(s, text)),
      callOf: (from, id, take) => {
        const calls = from === 'station' ? s.toStation : s.fromStation;
        return take ? calls.take(id) : calls.peek(id);
      },
      upstreamOrigin: () => (s.upstream?.kind === 'local' ? 'local-cs' : 'steve'),
      end: (code, reason, abrupt) => {
        if (s.closed) return;
        if (this.#sessions.get(s.link.chargeBoxId) === s) this.#sessions.delete(s.link.chargeBoxId);
        if (abrupt && s.link.terminate) s.link.terminate(reason);
        this.#end(s, abrupt ? 1006 : code, reason, !(abrupt && s.link.terminate));
      },
      observe: (obs) => this.options.tap.frame(obs),
    };
  }

  #observe(
    session: StationSession,
    leg: Leg,
    direction: Direction,
    origin: Origin,
    disposition: Disposition,
    raw: string,
    frame: Frame | undefined,
    problem?: string,
    messageId?: string,
    action?: string,
    rttMs?: number,
    t0?: number,
  ): void {
    const link = session.link;
    const id = frame?.id ?? messageId;
    const act = action ?? (frame?.type === CALL ? frame.action : undefined);
    // Built field by field rather than with conditional spreads: this runs twice per relayed frame.
    const obs: Mutable<FrameObservation> = { atUs: nowUs(), chargeBoxId: link.chargeBoxId, linkKind: link.kind, leg, direction, origin, disposition, raw };
    if (frame) obs.messageType = messageTypeName(frame.type);
    if (act !== undefined) obs.action = act;
    if (id !== undefined) obs.messageId = id;
    if (t0 !== undefined) obs.forwardUs = Math.round((performance.now() - t0) * 1000);
    if (rttMs !== undefined) obs.rttMs = rttMs;
    if (problem !== undefined) obs.problem = problem;
    if (frame) obs.frame = frame;
    this.options.tap.frame(obs);
  }
}
