// One mirror's connection for one station: its own WebSocket to URL/{id the mirror sees}, its own Basic auth and
// CA, reconnects with exponential backoff and jitter, and a byte-bounded queue. Runs in the mirror worker
// (worker-thread.ts), never on the relay's thread; frames are queued in O(1) and written on a later turn.
import WebSocket from 'ws';
import type { MirrorLimits } from './config.js';
import { FrameQueue } from './frame-queue.js';
import type { LinkSetup } from './worker-protocol.js';

export type MirrorLinkState = 'connecting' | 'open' | 'backoff' | 'closed';

/** Bytes handed to the socket and not yet flushed before the pump waits for the socket to drain. */
const HIGH_WATER = 256 * 1024;
/** Frames arrive as UTF-8 bytes but are OCPP text frames. */
const TEXT = { binary: false } as const;

export interface MirrorLinkStats {
  readonly chargeBoxId: string;
  /** The chargeBoxId this mirror sees (after `rename`). */
  readonly mirrorChargeBoxId: string;
  readonly state: MirrorLinkState;
  /** Age of the oldest frame the mirror has not yet been sent (0: caught up). */
  readonly lagMs: number;
  readonly queued: number;
  readonly queuedBytes: number;
  readonly sent: number;
  /** Frames not queued because the byte budget was full. */
  readonly dropped: number;
  readonly reconnects: number;
  readonly lastError: string | null;
}

export interface MirrorLinkOptions {
  readonly setup: LinkSetup;
  readonly chargeBoxId: string;
  readonly limits: MirrorLimits;
  /** A frame the mirror sent, as received (text frames only). */
  readonly onFrame: (data: Buffer) => void;
  /** The state or the last error changed, or a frame was dropped: numbers worth reporting soon. */
  readonly onNotable?: () => void;
  readonly random?: () => number;
}

export class MirrorLink {
  readonly mirrorChargeBoxId: string;
  readonly #o: MirrorLinkOptions;
  readonly #queue: FrameQueue;
  #ws: WebSocket | undefined;
  #state: MirrorLinkState = 'connecting';
  #failures = 0;
  #reconnects = 0;
  #sent = 0;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MirrorLinkOptions) {
    this.#o = options;
    this.mirrorChargeBoxId = options.setup.mirrorChargeBoxId;
    const limit = options.setup.queueBytes;
    this.#queue = new FrameQueue(() => limit);
    this.#connect();
  }

  get state(): MirrorLinkState {
    return this.#state;
  }

  /**
   * Queues a frame (UTF-8) for the mirror: the relay's copy or the gateway's own answer to the mirror. O(1); the
   * worker calls pump() once it queued a batch's frames.
   */
  send(text: Uint8Array, at: number): void {
    if (this.#state === 'closed') return;
    if (!this.#queue.push(text, at)) this.#o.onNotable?.();
  }

  /** Writes what was queued, if the connection is open. */
  pump(): void {
    this.#pump();
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#o.onNotable?.();
    clearTimeout(this.#timer);
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws?.readyState === WebSocket.CONNECTING) ws.terminate();
    else ws?.close(1000, 'station disconnected');
  }

  stats(now = Date.now()): MirrorLinkStats {
    return {
      chargeBoxId: this.#o.chargeBoxId,
      mirrorChargeBoxId: this.mirrorChargeBoxId,
      state: this.#state,
      lagMs: this.#queue.lagMs(now),
      queued: this.#queue.length,
      queuedBytes: this.#queue.bytes,
      sent: this.#sent,
      dropped: this.#queue.dropped,
      reconnects: this.#reconnects,
      lastError: this.#lastError,
    };
  }

  #connect(): void {
    const { setup: spec, limits } = this.#o;
    const ca = spec.ca ? Buffer.from(spec.ca) : undefined;
    const headers: Record<string, string> = {};
    if (spec.password !== undefined) {
      const user = spec.username ?? this.mirrorChargeBoxId;
      headers.authorization = `Basic ${Buffer.from(`${user}:${spec.password}`).toString('base64')}`;
    }
    this.#state = 'connecting';
    this.#o.onNotable?.();
    const ws = new WebSocket(`${spec.url}/${encodeURIComponent(this.mirrorChargeBoxId)}`, ['ocpp1.6'], {
      headers,
      maxPayload: limits.maxFrameBytes,
      handshakeTimeout: limits.openTimeoutMs,
      perMessageDeflate: false,
      ...(ca ? { ca } : {}),
    });
    this.#ws = ws;
    let refused = false;
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      refused = true;
      this.#lastError = `the mirror refused the connection (HTTP ${res.statusCode ?? 0})`;
      ws.terminate();
    });
    ws.on('open', () => {
      if (this.#ws !== ws) return;
      if (ws.protocol !== 'ocpp1.6') {
        this.#lastError = 'the mirror did not accept subprotocol ocpp1.6';
        ws.close(1002, 'ocpp1.6 required');
        return;
      }
      this.#state = 'open';
      this.#o.onNotable?.();
      this.#failures = 0;
      this.#pump();
    });
    ws.on('message', (data, isBinary) => {
      if (this.#ws === ws && !isBinary) this.#o.onFrame(data as Buffer);
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#ws === ws && !refused) this.#lastError = `mirror unreachable: ${err.code ?? err.message}`;
    });
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws) return;
      if (this.#state === 'open') this.#lastError = `the mirror closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      this.#lost();
    });
  }

  #lost(): void {
    this.#ws = undefined;
    if (this.#state === 'closed') return;
    this.#queue.rewind();
    this.#state = 'backoff';
    this.#o.onNotable?.();
    const { retryBaseMs, retryMaxMs } = this.#o.limits;
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(this.#failures, 20));
    this.#failures++;
    // ±20 % so that the links of many stations do not reconnect in step.
    const jittered = Math.round(delay * (0.8 + 0.4 * (this.#o.random ?? Math.random)()));
    this.#timer = setTimeout(() => {
      this.#reconnects++;
      this.#connect();
    }, jittered);
    this.#timer.unref();
  }

  /**
   * Writes queued frames while the socket has room. Only the last write of a batch carries a callback: writes
   * complete in order, so its flush frees the whole batch's budget (one closure per batch, not per frame).
   */
  #pump(): void {
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws) return;
    let text = this.#queue.take();
    let batch = 0;
    while (text !== undefined) {
      batch++;
      const next = this.#queue.inSocket < HIGH_WATER ? this.#queue.take() : undefined;
      if (next !== undefined) {
        ws.send(text, TEXT);
      } else {
        const count = batch;
        ws.send(text, TEXT, (err) => {
          if (err || this.#ws !== ws) return; // the connection went: rewind() re-sends the batch on the next one
          this.#sent += count;
          this.#queue.flushed(count);
          this.#pump();
        });
      }
      text = next;
    }
  }
}
