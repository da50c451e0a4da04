// The gateway's side of one serial port (docs/serial-protocol.md §5–7): answers a board's hello, turns it into a
// SerialStationLink, keeps the link alive, paces bytes to the board's receive window, and splits log text from
// frames. Bytes in through data(); bytes out through the write function. No port handling here.
import type pino from 'pino';
import { CloseCode } from '../links/link.js';
import { Decoder, encodeControl, encodeMessage, messageBytes, type Decoded } from './codec.js';
import type { DeviceLogStore } from './device-log.js';
import type { SerialMetrics } from './metrics.js';
import { BOARD_DEFAULTS, CHARGE_BOX_ID_RE, Kind } from './protocol.js';
import { SerialStationLink } from './serial-link.js';

/** Version of this gateway's serial implementation, sent in the U line. */
export const GATEWAY_SERIAL_VERSION = '0.1.0';
/** Line overhead above the largest message: the longest chunk header and the CRC tail. */
const LINE_OVERHEAD = 64;
/** Debug lines kept while no board has said who it is; written to its log once it does. */
const PRE_HELLO_LINES = 200;

export interface BoardInfo {
  readonly chargeBoxId: string;
  readonly announcedId: string;
  readonly version: number;
  readonly bridgeVersion: string;
  readonly rx: number;
  readonly mtu: number;
  readonly max: number;
}

export interface SessionCounters {
  messagesIn: number;
  messagesOut: number;
  corrupt: number;
  logLines: number;
  hellos: number;
}

export interface SessionOptions {
  readonly portPath: string;
  readonly configuredId?: string;
  readonly write: (bytes: Buffer) => void;
  readonly attach: (link: SerialStationLink) => void;
  readonly deviceLog: DeviceLogStore;
  readonly metrics: SerialMetrics;
  readonly logger: pino.Logger;
  readonly keepaliveMs: number;
  readonly maxMessageBytes: number;
  readonly rejoinDelayMs: number;
  /** Highest protocol version offered to boards (PROTOCOL_VERSION unless pinned lower). */
  readonly protocolVersion: number;
}

function int(value: string | undefined, fallback: number): number {
  return value !== undefined && /^\d{1,10}$/.test(value) ? Number(value) : fallback;
}

export class SerialSession {
  readonly counters: SessionCounters = { messagesIn: 0, messagesOut: 0, corrupt: 0, logLines: 0, hellos: 0 };
  #decoder: Decoder;
  #link: SerialStationLink | undefined;
  #board: BoardInfo | undefined;
  /** Who the log lines belong to when no link is up: the last board seen on this port. */
  #lastId: string | undefined;
  #preHello: { line: string; at: Date }[] = [];
  // Flow control towards the board (cumulative byte counts, mod 2^32).
  #queue: Buffer[] = [];
  #sent = 0;
  #acked = 0;
  #lastProgress = 0;
  #msgNo = 0;
  #lastRx = 0;
  #lastTx = 0;
  #lastNoSession = 0;
  #holdOffUntil = 0;
  #open = false;
  #warnedId = false;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly o: SessionOptions) {
    this.#decoder = this.#newDecoder();
    this.#lastId = o.configuredId;
    this.#timer = setInterval(() => this.#tick(), Math.max(25, Math.min(250, o.keepaliveMs / 4)));
    this.#timer.unref();
  }

  get board(): BoardInfo | undefined {
    return this.#board;
  }
  get linkUp(): boolean {
    return this.#link !== undefined;
  }

  #newDecoder(): Decoder {
    return new Decoder(
      { maxLine: this.o.maxMessageBytes + LINE_OVERHEAD, maxMessage: this.o.maxMessageBytes, version: this.o.protocolVersion },
      (d) => this.#decoded(d),
    );
  }

  /** The port is open: ask any board that still thinks it is linked to say hello again. */
  opened(): void {
    this.#open = true;
    this.#decoder = this.#newDecoder();
    this.#writeControl(Kind.down, ['reason=reset']);
  }

  data(chunk: Buffer): void {
    this.#decoder.push(chunk);
  }

  /** The port closed (unplugged, or stopping). */
  portClosed(reason: string): void {
    this.#open = false;
    this.#endLink(CloseCode.goingAway, reason);
  }

  /** Gateway shutdown: tell the board, end the link. */
  stop(): void {
    if (this.#link) this.#writeControl(Kind.down, ['reason=stopping']);
    this.#endLink(CloseCode.goingAway, 'gateway stopping');
    clearInterval(this.#timer);
  }

  // ── input ──

  #decoded(d: Decoded): void {
    switch (d.type) {
      case 'message':
        return this.#message(d.text);
      case 'text':
        return this.#text(d.line);
      case 'corrupt':
        this.counters.corrupt++;
        this.o.metrics.corrupt.inc({ reason: d.reason });
        this.o.logger.debug({ port: this.o.portPath, reason: d.reason, detail: d.detail }, 'corrupt serial frame dropped');
        this.#link?.refuse(`corrupt serial frame (${d.reason}): ${d.detail}`);
        return;
      case 'control':
        this.#lastRx = Date.now();
        return this.#control(d.kind, d.args, d.fields);
    }
  }

  #message(text: string): void {
    this.#lastRx = Date.now();
    if (!this.#link) {
      this.o.metrics.dropped.inc({ reason: 'no-session' });
      // The board thinks it is linked (a gateway restart, a lost U): make it say hello again, a few times a second at most.
      if (this.#lastRx - this.#lastNoSession > 200) {
        this.#lastNoSession = this.#lastRx;
        this.#writeControl(Kind.down, ['reason=no-session']);
      }
      return;
    }
    this.counters.messagesIn++;
    this.o.metrics.frames.inc({ direction: 'in' });
    this.#link.deliver(text);
  }

  #text(line: string): void {
    this.counters.logLines++;
    const id = this.#board?.chargeBoxId ?? this.#lastId;
    if (id !== undefined) {
      this.o.deviceLog.append(id, line);
      return;
    }
    if (this.#preHello.length >= PRE_HELLO_LINES) this.#preHello.shift();
    this.#preHello.push({ line, at: new Date() });
  }

  #control(kind: string, args: readonly string[], fields: Readonly<Record<string, string>>): void {
    switch (kind) {
      case Kind.hello:
        return this.#hello(fields);
      case Kind.ack: {
        const n = int(args[0], -1);
        if (n < 0 || !this.#board) return;
        this.#acked = n >>> 0;
        // Acknowledged more than sent (bytes sent before the hello was read): start counting from here.
        if (((this.#sent - this.#acked) >>> 0) > 0x80000000) this.#sent = this.#acked;
        this.#lastProgress = Date.now();
        return this.#pump();
      }
      case Kind.down:
        if (this.#link) this.#endLink(CloseCode.goingAway, `board went down: ${fields.reason ?? 'no reason'}`);
        return;
      default:
        return; // K only refreshes liveness; U and unknown kinds are not for the gateway
    }
  }

  #hello(fields: Readonly<Record<string, string>>): void {
    this.counters.hellos++;
    const version = int(fields.v, 0);
    const announced = fields.id;
    if (version < 1 || announced === undefined || !CHARGE_BOX_ID_RE.test(announced)) {
      this.o.logger.warn({ port: this.o.portPath, fields }, 'serial hello without a valid version and chargeBoxId: ignored');
      // A "down" would also take down a working link on this port; only an unlinked board is told.
      if (!this.#link) this.#writeControl(Kind.down, ['reason=bad-hello']);
      return;
    }
    if (Date.now() < this.#holdOffUntil) {
      this.#writeControl(Kind.down, ['reason=retry-later']);
      return;
    }
    const chargeBoxId = this.o.configuredId ?? announced;
    if (chargeBoxId !== announced && !this.#warnedId) {
      this.#warnedId = true;
      this.o.logger.warn({ port: this.o.portPath, announced, chargeBoxId }, 'board announces another chargeBoxId than configured for its port: using the configured one');
    }
    // A hello while linked: the board restarted. The old link ends before the new one starts.
    if (this.#link) this.#endLink(CloseCode.goingAway, 'board restarted (new hello)');
    const rx = int(fields.rx, BOARD_DEFAULTS.rx);
    this.#board = {
      chargeBoxId,
      announcedId: announced,
      version: Math.min(version, this.o.protocolVersion),
      bridgeVersion: fields.fw ?? 'unknown',
      rx,
      // A chunk line never exceeds the board's window either, or it could never be sent.
      mtu: Math.max(64, Math.min(int(fields.mtu, BOARD_DEFAULTS.mtu), rx > 0 ? rx : Number.MAX_SAFE_INTEGER)),
      max: int(fields.max, BOARD_DEFAULTS.max),
    };
    this.#lastId = chargeBoxId;
    this.#queue = [];
    this.#sent = 0;
    this.#acked = 0;
    this.#lastProgress = Date.now();
    this.#writeControl(Kind.up, [
      `v=${this.#board.version}`,
      `gw=${GATEWAY_SERIAL_VERSION}`,
      `mtu=${this.o.maxMessageBytes + LINE_OVERHEAD}`,
      `max=${this.o.maxMessageBytes}`,
      `ka=${this.o.keepaliveMs}`,
    ]);
    for (const { line, at } of this.#preHello.splice(0)) this.o.deviceLog.append(chargeBoxId, line, at);
    const link = new SerialStationLink(chargeBoxId, `serial:${this.o.portPath}`, this.#board.max, {
      send: (text) => this.#send(link, text),
      closeFromRelay: (code, reason) => {
        if (this.#link !== link) return;
        this.#writeControl(Kind.down, ['reason=closed']);
        this.#forget();
        this.#holdOffUntil = Date.now() + this.o.rejoinDelayMs;
        this.o.logger.info({ port: this.o.portPath, chargeBoxId, code, reason }, 'serial link closed by the gateway');
      },
    });
    this.#link = link;
    this.o.logger.info({ port: this.o.portPath, chargeBoxId, bridge: this.#board.bridgeVersion, version: this.#board.version }, 'serial board linked');
    this.o.attach(link);
  }

  // ── output ──

  #send(link: SerialStationLink, text: string): void {
    const board = this.#board;
    if (this.#link !== link || !board) return;
    const bytes = messageBytes(text);
    if (!bytes) {
      this.o.metrics.dropped.inc({ reason: 'unencodable' });
      this.o.logger.warn({ chargeBoxId: board.chargeBoxId }, 'message holds a 0x1E byte, which no valid JSON does: not sent to the board');
      return;
    }
    if (bytes.length > board.max) {
      // What a WebSocket peer does with an over-long message: close with 1009.
      this.o.metrics.dropped.inc({ reason: 'too-big' });
      link.close(CloseCode.tooBig, `message of ${bytes.length} bytes exceeds the board's limit of ${board.max}`);
      return;
    }
    this.counters.messagesOut++;
    this.o.metrics.frames.inc({ direction: 'out' });
    const lines = encodeMessage(bytes, board.mtu, this.#msgNo, board.version);
    if (lines.length > 1) this.#msgNo = (this.#msgNo + 1) % 65536;
    this.#queue.push(...lines);
    this.#pump();
  }

  /** Writes queued lines while the board's receive window has room (one line always goes when nothing is in flight). */
  #pump(): void {
    const rx = this.#board?.rx ?? 0;
    while (this.#queue.length > 0) {
      const line = this.#queue[0] as Buffer;
      const inFlight = (this.#sent - this.#acked) >>> 0;
      if (rx > 0 && inFlight > 0 && inFlight + line.length > rx) return;
      if (inFlight === 0) this.#lastProgress = Date.now();
      this.#queue.shift();
      this.#write(line);
    }
  }

  #writeControl(kind: string, tokens: readonly string[]): void {
    if (this.#open) this.#write(encodeControl(kind, tokens));
  }

  #write(bytes: Buffer): void {
    this.#sent = (this.#sent + bytes.length) >>> 0;
    this.#lastTx = Date.now();
    this.o.write(bytes);
  }

  // ── time ──

  #tick(): void {
    if (!this.#link) return;
    const now = Date.now();
    const ka = this.o.keepaliveMs;
    if (now - this.#lastRx > 3 * ka) {
      this.#writeControl(Kind.down, ['reason=timeout']);
      this.#endLink(CloseCode.goingAway, `serial keepalive timeout: nothing from the board for ${3 * ka} ms`);
      return;
    }
    // A board that keeps talking but stopped acknowledging lost bytes on the wire: forget what is in flight rather
    // than stall. A board that is silent is busy (its loop does not run); its buffer still holds the bytes.
    const inFlight = (this.#sent - this.#acked) >>> 0;
    if (inFlight > 0 && now - this.#lastProgress > Math.max(ka, 500) && this.#lastRx > this.#lastProgress + 200) {
      this.o.metrics.flowStalls.inc();
      this.o.logger.warn({ chargeBoxId: this.#board?.chargeBoxId, inFlight }, 'board stopped acknowledging: window reset');
      this.#sent = this.#acked;
      this.#lastProgress = now;
      this.#pump();
    }
    if (now - this.#lastTx >= ka && this.#queue.length === 0) this.#writeControl(Kind.keepalive, []);
  }

  #forget(): void {
    this.#link = undefined;
    this.#board = undefined;
    this.#queue = [];
  }

  #endLink(code: number, reason: string): void {
    const link = this.#link;
    if (!link) return;
    this.#forget();
    this.o.logger.info({ port: this.o.portPath, chargeBoxId: link.chargeBoxId, code, reason }, 'serial link down');
    link.ended(code, reason);
  }
}
