// The relay: pairs every StationLink with an upstream (SteVe or the embedded central system) and moves frames
// byte for byte, in order, both ways. Per frame it does only what forwarding needs (parse, pending-call
// bookkeeping); observers get a copy through the FrameTap afterwards. Beside it: a station's state (session.ts),
// the gateway's own calls (own-calls.ts), large frames judged by their head (large-frame.ts), options (relay-options.ts).
import { GatewayError } from '../errors.js';
import type { Mutable } from '../events/catalogue.js';
import type { Direction, Disposition, FrameObservation, Leg, Origin } from '../events/observations.js';
import { CloseCode, type StationLink } from '../links/link.js';
import { isCallErrorCode, toOcpp16Code } from '../ocpp/errors.js';
import { FRAME_HEAD_BYTES, readFrameHead } from '../ocpp/frame-head.js';
import { CALL, CALLERROR, CALLRESULT, encodeCallError, messageTypeName, parseFrame, type CallError, type Frame, type ParseResult } from '../ocpp/frames.js';
import { clip, clipBytes, describeJson } from '../ocpp/wire-text.js';
import type { UpstreamFailure } from '../upstream/upstream.js';
import { FaultRegistry, type FaultSink } from './faults/index.js';
import { FrameDecoder, type Decoded, type HeadRequest } from './frame-decoder.js';
import { nowUs } from './frame-tap.js';
import { refusalFromHead, type Refusal } from './large-frame.js';
import { encodeOwnCall, settleOwnCall } from './own-calls.js';
import type { CallOwner } from './pending-calls.js';
import { DEFAULT_UPSTREAM_QUEUE_BYTES, OWN_CALL_QUEUE_BYTES, REFUSED_RAW_CHARS, type RelayOptions, type StationInfo } from './relay-options.js';
import { closeReason, StationSession, stationInfo, type CallOutcome, type DisconnectSide } from './session.js';
import { StationInbox, type Pausable } from './station-inbox.js';

export type { CallOutcome, DisconnectSide } from './session.js';
export { DEFAULT_UPSTREAM_QUEUE_BYTES, REFUSED_RAW_CHARS, type RelayOptions, type StationInfo, type StationMirror } from './relay-options.js';

export class Relay {
  readonly #sessions = new Map<string, StationSession>();
  readonly #sweeper: NodeJS.Timeout;
  #waitingOverflows = 0;
  /** Fault rules per station (src/relay/faults); REST, Socket.IO and test cases set them here. */
  readonly faults = new FaultRegistry();
  /** Large station frames are decoded and parsed on its thread, off this event loop. */
  readonly decoder = new FrameDecoder();

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
      // What the old link sent before the new one came is still handled, in order.
      previous.inbox.flush();
      this.#end(previous, CloseCode.policyViolation, 'replaced by a new connection for the same chargeBoxId', true);
    }
    const session = new StationSession(link, (s) => this.#inbox(s));
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
      message: (text) => (session.inbox.idle ? this.#fromStation(session, text) : session.inbox.text(text)),
      messageBytes: (bytes) => session.inbox.bytes(bytes),
      refused: (description) => session.inbox.refused(description),
      close: (code, reason) => {
        // What the station sent before it closed is still handled, in order.
        session.inbox.flush();
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
    session.mirror = this.options.mirrors?.(id, link.kind);
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
    const encoded = encodeOwnCall(session, id, action, payload, this.options.ownCallQueueBytes ?? OWN_CALL_QUEUE_BYTES, this.options.logger);
    if (encoded instanceof GatewayError) return Promise.reject(encoded);
    const { text, size } = encoded;
    session.ownQueueBytes += size;
    return new Promise((resolve) => {
      session.ownQueue.push({ id, action, payload, text, size, timeoutMs: opts.timeoutMs ?? this.options.callTimeoutMs, resolve });
      this.#pumpOwnCalls(session);
    });
  }

  /** Whether this process holds a live link for the station. */
  holds(chargeBoxId: string): boolean {
    const s = this.#sessions.get(chargeBoxId);
    return s !== undefined && !s.closed;
  }

  /** Closes one station's link and upstream (cluster: a newer connection on another node replaced it). */
  disconnect(chargeBoxId: string, code: number, reason: string): boolean {
    const session = this.#sessions.get(chargeBoxId);
    if (!session || session.closed) return false;
    this.#sessions.delete(chargeBoxId);
    this.#end(session, code, reason, true);
    return true;
  }

  stations(): StationInfo[] {
    return [...this.#sessions.values()].map(stationInfo);
  }

  /** Closes every link and upstream with the given code (shutdown). */
  closeAll(code: number, reason: string): void {
    clearInterval(this.#sweeper);
    this.faults.close();
    void this.decoder.close();
    for (const session of [...this.#sessions.values()]) {
      this.#sessions.delete(session.link.chargeBoxId);
      session.inbox.flush();
      this.#end(session, code, reason, true);
    }
  }

  // ── station → upstream ─────────────────────────────────────────────────────────────────────────────────────

  /** The station's frames in order, large ones decoded on the decoder's thread (station-inbox.ts). */
  #inbox(session: StationSession): StationInbox {
    return new StationInbox(this.decoder, {
      text: (text) => this.#fromStation(session, text),
      refused: (description) => {
        session.counters.refused++;
        this.#observe(session, 'station', 'in', 'station', 'refused', `<${description}>`, undefined, description);
      },
      refusedByHead: (bytes) => this.#refusedByHead(session, bytes),
      head: (bytes) => this.#head(session, bytes),
      decoded: (bytes, d) => this.#fromDecoder(session, bytes, d),
    }, pausable(session.link));
  }

  /**
   * A large frame is wanted back from the decoder's thread only as far as its observers keep it (the message log's
   * MESSAGE_LOG_MAX_RAW_BYTES): the whole text would cost this thread a copy in fresh memory, milliseconds per
   * megabyte, that nobody reads. SteVe gets the station's bytes; the embedded central system answers from the
   * payload with its longest strings cut (COMPACT_STRING_CHARS: the same answers). Not so for fault rules and mirrors
   * (they see the text), a CALLERROR (its details are passed on) or an answer to the gateway's own call (its caller
   * gets the payload).
   */
  #head(session: StationSession, bytes: Buffer): HeadRequest | undefined {
    const keep = this.options.observedRawBytes;
    if (keep === undefined || bytes.length <= keep || session.faults !== undefined || session.mirror?.active === true || session.upstream === undefined) return undefined;
    const head = readFrameHead(bytes.toString('utf8', 0, FRAME_HEAD_BYTES));
    if (head === undefined || head.type === CALLERROR) return undefined;
    if (head.type === CALLRESULT && (head.id === undefined || session.toStation.peek(head.id)?.owner === 'gateway')) return undefined;
    return { bytes: keep, payload: session.upstream.kind === 'steve' ? 'none' : 'compact' };
  }

  /** A large frame back from the decoder: whole, or its head only while it can still go upstream as its bytes. */
  #fromDecoder(session: StationSession, bytes: Buffer, d: Decoded): void {
    if (d.rawBytes === undefined) return this.#fromStation(session, d.text, false, bytes, d.parsed);
    // Things changed while it was away (a rule or mirror came, the upstream is not open): decoded whole after all.
    if (session.faults !== undefined || session.mirror?.active === true || (session.upstreamState !== 'open' && session.upstreamState !== 'local')) {
      this.decoder.counters.headsRedone++;
      return this.#fromStation(session, this.decoder.decodeInPlace(bytes).text, false, bytes);
    }
    this.#fromStation(session, d.text, false, bytes, d.parsed, d.rawBytes);
  }

  /**
   * A large frame, still bytes. One that can never pass whatever the rest holds (an id too long to echo, an answer to
   * no pending call, nesting past the limit) is refused from its first FRAME_HEAD_BYTES, so it is never decoded or
   * parsed whole; any other goes the usual way. Fault rules see every frame's text, so with rules nothing is skipped.
   */
  #refusedByHead(session: StationSession, bytes: Buffer): boolean {
    const refusal = session.faults === undefined ? refusalFromHead(bytes, (id) => session.toStation.peek(id) !== undefined) : undefined;
    if (refusal === undefined) return false;
    session.lastFrameAt = Date.now();
    this.#refuseFromStation(session, clipBytes(bytes, REFUSED_RAW_CHARS), refusal, performance.now());
    return true;
  }

  /**
   * `pastFaults`: a frame a fault rule let through (delayed, held, duplicated) is not offered to the rules again.
   * `bytes`: the frame as the link received it (large frames), written upstream as is when the frame passes, and
   * `given` its parse from the decoder's thread.
   */
  #fromStation(session: StationSession, text: string, pastFaults = false, bytes?: Buffer, given?: ParseResult, rawBytes?: number): void {
    const t0 = performance.now();
    session.lastFrameAt = Date.now();
    if (session.faults !== undefined && !pastFaults && session.faults.intercept('station', text)) return;
    const parsed = given ?? parseFrame(text);
    if (!parsed.ok) return this.#refuseFromStation(session, clip(text, REFUSED_RAW_CHARS), parsed.problem, t0);
    const frame = parsed.frame;
    if (frame.type === CALL) {
      session.fromStation.add(frame.id, { action: frame.action, owner: 'station', sentAt: t0, deadline: t0 + this.options.callTimeoutMs });
      this.#toUpstream(session, text, frame, t0, frame.action, undefined, bytes, rawBytes);
      session.mirror?.fromStation(text);
      return;
    }
    // An answer: to SteVe's call, to the gateway's own, or to nobody.
    const call = session.toStation.take(frame.id);
    if (!call) {
      session.counters.refused++;
      this.#observe(session, 'station', 'in', 'station', 'refused', text, frame, `answer to unknown message id ${frame.id}`, undefined, undefined, undefined, undefined, rawBytes);
      return;
    }
    const rttMs = t0 - call.sentAt;
    if (call.owner === 'gateway') {
      settleOwnCall(session, frame, rttMs);
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
    this.#toUpstream(session, text, frame, t0, call.action, rttMs, bytes, rawBytes);
    this.#pumpOwnCalls(session);
  }

  /**
   * Never forwarded: SteVe would close the socket with 1011. A CALL with an id to answer gets a CALLERROR; a malformed
   * answer to a pending call is replaced by an error, so the call does not hang. `raw` is the frame clipped.
   */
  #refuseFromStation(session: StationSession, raw: string, problem: Refusal, t0: number): void {
    session.counters.refused++;
    this.#observe(session, 'station', 'in', 'station', 'refused', raw, undefined, problem, problem.messageId);
    if (problem.messageId === undefined) return;
    if (problem.isCall) {
      const code = problem.kind === 'bad-action' ? 'NotImplemented' : 'FormationViolation';
      this.#answerStation(session, { type: CALLERROR, id: problem.messageId, code, description: problem.message, details: {} });
    } else {
      this.#replaceAnswer(session, { type: CALLERROR, id: problem.messageId, code: 'GenericError', description: `the station's answer was malformed: ${problem.message}`, details: {} }, t0);
    }
  }

  /** `rawBytes`: `text` is only the first part of a frame of this size (#head); the upstream gets `bytes` or `frame`. */
  #toUpstream(session: StationSession, text: string, frame: Frame, t0: number, action: string, rttMs?: number, bytes?: Buffer, rawBytes?: number): void {
    session.counters.fromStation++;
    if (!this.#sendUpstream(session, text, frame, bytes)) return;
    this.#observe(session, 'station', 'in', 'station', 'forwarded', text, frame, undefined, undefined, action, rttMs, t0, rawBytes);
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
    if (call.owner === 'gateway') settleOwnCall(session, error, rttMs);
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
      this.#observe(session, 'upstream', 'in', origin, 'refused', clip(text, REFUSED_RAW_CHARS), undefined, parsed.problem, parsed.problem.messageId);
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
    if (rttMs !== undefined) session.mirror?.fromUpstream(text);
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
    session.inbox.drop();
    const id = session.link.chargeBoxId;
    if (session.faults) this.faults.detached(id, session.faults);
    session.faults = undefined;
    session.mirror?.close();
    session.mirror = undefined;
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
    /** What is wrong with the frame, or what was done to it; a parse problem keeps its kind for the log. */
    problem?: string | Refusal,
    messageId?: string,
    action?: string,
    rttMs?: number,
    t0?: number,
    rawBytes?: number,
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
    if (typeof problem === 'string') obs.problem = problem;
    else if (problem !== undefined) {
      obs.problem = problem.message;
      if (problem.kind !== undefined) obs.problemKind = problem.kind;
    }
    if (frame) obs.frame = frame;
    if (rawBytes !== undefined) obs.rawBytes = rawBytes;
    this.options.tap.frame(obs);
  }
}

/** The link's pause and resume, when it has both. */
function pausable(link: StationLink): Pausable | undefined {
  const { pause, resume } = link;
  return pause && resume ? { pause: () => pause.call(link), resume: () => resume.call(link) } : undefined;
}
