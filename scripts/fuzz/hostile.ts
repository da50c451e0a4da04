// A hostile station: one WebSocket that sends generated frames, keeps count of the answers the gateway owes it,
// answers the central system's calls badly, and judges every answer and every close it gets.
import net from 'node:net';
import WebSocket from 'ws';
import { hostileAnswers, type Category, type HostileFrame } from './frames.js';
import { OCPP16_ERROR_CODES, sample } from './ocpp-check.js';
import type { Rng } from './prng.js';
import type { Violations } from './violations.js';

/** Close codes the README documents for bad input; a link closed with one of them owes no further answers. */
export const DOCUMENTED_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1003, 1007, 1008, 1009]);

/** A documented close excuses the calls it cut short, not ones left unanswered longer than this before it. */
export const ANSWER_GRACE_MS = 5000;

interface Owed {
  count: number;
  /** When the first still-unanswered call with this id was sent. */
  sentAt: number;
  readonly category: Category;
  readonly sample: string;
  readonly notImplemented: boolean;
}

export interface HostileStationOptions {
  readonly url: string;
  readonly chargeBoxId: string;
  readonly rng: Rng;
  readonly violations: Violations;
  readonly embedded: boolean;
}

export class HostileStation {
  readonly ws: WebSocket;
  readonly #o: HostileStationOptions;
  readonly #owed = new Map<string, Owed>();
  #held: string[] = [];
  #expectClose: { code: number; category: Category } | undefined;
  #lastCategory: Category | undefined;
  #stopping = false;
  closed = false;
  ready = false;
  /** Set when the gateway closed the link with a code the README does not document for bad input. */
  unexpectedClose: string | undefined;
  framesSent = 0;
  answersReceived = 0;

  constructor(o: HostileStationOptions) {
    this.#o = o;
    this.ws = new WebSocket(`${o.url}/${encodeURIComponent(o.chargeBoxId)}`, ['ocpp1.6'], {
      maxPayload: 64 * 1024 * 1024,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      // A zero masking key is valid and lets ws skip masking: the fuzzer's CPU goes to sending, not XOR loops.
      generateMask: (mask: Buffer) => void mask.fill(0),
    });
    this.ws.on('open', () => {
      // The boot is answered once the gateway's upstream is open: hostile frames follow only then.
      this.#owe('boot', { count: 0, sentAt: 0, category: 'known-action', sample: 'BootNotification', notImplemented: false });
      this.ws.send('[2,"boot","BootNotification",{"chargePointVendor":"Fuzz","chargePointModel":"Hostile"}]');
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    this.ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
    this.ws.on('error', () => undefined); // the close event reports what matters
  }

  get chargeBoxId(): string {
    return this.#o.chargeBoxId;
  }

  /** Whether frames may be sent now: open, booted, not closing, and not backed up. */
  get sendable(): boolean {
    return this.ready && !this.closed && this.#expectClose === undefined && this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount < 1024 * 1024;
  }

  send(frame: HostileFrame): void {
    if (frame.answerId !== undefined) this.#owe(frame.answerId, { count: 0, sentAt: 0, category: frame.category, sample: sample(frame.data, 100), notImplemented: frame.notImplemented === true });
    if (frame.closes !== undefined) this.#expectClose = { code: frame.closes, category: frame.category };
    this.#lastCategory = frame.category;
    this.framesSent++;
    this.ws.send(frame.data, { binary: frame.binary === true });
  }

  /** Calls still unanswered, and not excused by a documented close. */
  unanswered(): Array<{ id: string } & Owed> {
    return [...this.#owed].filter(([, o]) => o.count > 0).map(([id, o]) => ({ id, ...o }));
  }

  /** A link that was sent a frame which must close it, and is still open. */
  missingClose(): { code: number; category: Category } | undefined {
    return this.closed ? undefined : this.#expectClose;
  }

  close(): void {
    this.#stopping = true;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  #owe(id: string, o: Owed): void {
    // A duplicate of a call still in flight is owed no second answer: SteVe answers it, a gateway may not forward
    // that (it cannot tell the two answers apart); at least one answer must come.
    if (this.#owed.has(id)) return;
    this.#owed.set(id, { ...o, count: 1, sentAt: Date.now() });
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    const v = this.#o.violations;
    if (isBinary) return v.add('wrong-answer', `binary frame from the gateway to ${this.#o.chargeBoxId}`);
    const text = data.toString('utf8');
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return v.add('wrong-answer', `not JSON from the gateway: ${sample(text)}`);
    }
    if (!Array.isArray(frame) || (frame[0] !== 2 && frame[0] !== 3 && frame[0] !== 4) || typeof frame[1] !== 'string') {
      return v.add('wrong-answer', `not an OCPP-J frame from the gateway: ${sample(text)}`);
    }
    const [type, id] = frame as [number, string];
    if (type === 2) return this.#answerCall(id);
    if (type === 4 && (frame.length !== 5 || typeof frame[2] !== 'string' || !OCPP16_ERROR_CODES.has(frame[2]) || typeof frame[3] !== 'string')) {
      v.add('wrong-answer', `malformed CALLERROR from the gateway: ${sample(text)}`);
    }
    if (type === 3 && (frame.length !== 3 || typeof frame[2] !== 'object' || frame[2] === null || Array.isArray(frame[2]))) {
      v.add('wrong-answer', `malformed CALLRESULT from the gateway: ${sample(text)}`);
    }
    this.answersReceived++;
    const owed = this.#owed.get(id);
    if (!owed || owed.count === 0) return; // an answer to an echoed duplicate, or to a frame with no readable id
    owed.count--;
    if (owed.count === 0) this.#owed.delete(id);
    if (id === 'boot') this.ready = true;
    if (this.#o.embedded && type === 3 && owed.notImplemented) {
      v.add('wrong-answer', `CALLRESULT for an action the embedded central system does not implement (${owed.category}): ${sample(owed.sample, 80)} got ${sample(text, 80)}`);
    }
  }

  #answerCall(id: string): void {
    const { frames, holdBack } = hostileAnswers(this.#o.rng, id);
    if (holdBack) {
      this.#held.push(...frames);
      return;
    }
    for (const f of frames) this.ws.send(f);
    // Whatever was held back goes after: answers out of order.
    for (const f of this.#held.splice(0)) this.ws.send(f);
  }

  #onClose(code: number, reason: string): void {
    this.closed = true;
    this.ready = false;
    if (this.#stopping) return;
    if (DOCUMENTED_CLOSE_CODES.has(code)) {
      // A documented close stands for the answers it cut short; calls that had waited longer are still missing.
      const cutoff = Date.now() - ANSWER_GRACE_MS;
      for (const [id, o] of this.#owed) if (o.sentAt >= cutoff) this.#owed.delete(id);
      return;
    }
    const last = this.#expectClose?.category ?? this.#lastCategory ?? 'none';
    // Judged at the end of the run: if the gateway died, this close is its consequence, not a finding of its own.
    this.unexpectedClose = `${this.#o.chargeBoxId} closed with ${code} "${sample(reason, 60)}" after a ${last} frame`;
  }
}

/**
 * A raw WebSocket handshake for a path no URL parser may touch (`/ocpp/..` would be folded to `/` by one).
 * Resolves with the HTTP status the gateway answers, or 0 when it only closed the connection.
 */
export function handshakeStatus(port: number, rawPath: string, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    const done = (status: number): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => done(0), timeoutMs);
    socket.on('connect', () => {
      socket.write(
        `GET ${rawPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.from('fuzz-handshake-1').toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n`,
      );
    });
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) done(Number(m[1]));
    });
    socket.on('error', () => done(0));
    socket.on('close', () => done(0));
  });
}

/** chargeBoxIds that would name another path once a URL parser folds the dot segments. */
export const DOT_IDS: readonly string[] = ['.', '..', '%2e', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '%2e%2E'];
