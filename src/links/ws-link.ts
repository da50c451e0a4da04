// A station connected over WebSocket, as a StationLink. Owns its keepalive: a ping every interval;
// a peer that has not answered the previous ping by then is terminated and reported.
import type pino from 'pino';
import WebSocket from 'ws';
import { CloseCode, LARGE_MESSAGE_BYTES, type CloseCodeValue, type StationLink, type StationLinkHandlers } from './link.js';

/** What `ws` closed the socket for, by its error code, in words for the message log and the close reason. */
const WS_REFUSALS = new Map<string, string>([
  ['WS_ERR_INVALID_UTF8', 'text frame is not valid UTF-8'],
  ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'frame larger than the maximum'],
]);

export class WsStationLink implements StationLink {
  readonly kind = 'ws' as const;
  #handlers: StationLinkHandlers | undefined;
  #closed = false;
  #alive = true;
  #pinger: NodeJS.Timeout | undefined;
  /** Set when the gateway itself closes: the reason it gave wins over what the peer echoes. */
  #ownClose: { code: number; reason: string } | undefined;
  /** Set when `ws` refused a frame and closed the socket itself (1007 bad UTF-8, 1009 too big, 1002 protocol). */
  #refusal: string | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly chargeBoxId: string,
    readonly remoteAddress: string | undefined,
    pingIntervalMs: number,
    private readonly logger: pino.Logger,
  ) {
    if (pingIntervalMs > 0) {
      this.#pinger = setInterval(() => this.#ping(), pingIntervalMs);
      this.#pinger.unref();
    }
    ws.on('pong', () => {
      this.#alive = true;
    });
  }

  attach(handlers: StationLinkHandlers): void {
    this.#handlers = handlers;
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        handlers.refused?.(`binary frame of ${data.length} bytes`, CloseCode.unsupportedData);
        this.close(CloseCode.unsupportedData, 'binary frames are not OCPP-J');
        return;
      }
      // ws has checked the UTF-8 already; a large frame goes on as bytes, a string only if the relay lets it pass.
      if (data.length >= LARGE_MESSAGE_BYTES && handlers.messageBytes) handlers.messageBytes(data);
      else handlers.message(data.toString('utf8'));
    });
    this.ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself (1007 bad UTF-8, 1009 above maxPayload, 1002 protocol errors); the close event
      // reports the code. The frame is recorded as refused, never delivered.
      this.logger.warn({ chargeBoxId: this.chargeBoxId, code: err.code, err: err.message }, 'station socket error');
      if (this.#refusal !== undefined || err.code === undefined || !err.code.startsWith('WS_ERR_')) return;
      this.#refusal = WS_REFUSALS.get(err.code) ?? `WebSocket protocol error: ${err.message.slice(0, 80)}`;
      handlers.refused?.(this.#refusal);
    });
    this.ws.on('close', (code, reason) => {
      if (this.#pinger) clearInterval(this.#pinger);
      if (this.#closed && this.#ownClose) return this.#emitClose(this.#ownClose.code, this.#ownClose.reason);
      this.#closed = true;
      this.#emitClose(code, reason.toString() || this.#refusal || (code === CloseCode.tooBig ? 'frame larger than the maximum' : 'closed by station'));
    });
  }

  send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  close(code: CloseCodeValue, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ownClose = { code, reason };
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code, reason);
      // A peer that never completes the closing handshake is cut off.
      setTimeout(() => this.ws.terminate(), 2000).unref();
    } else {
      this.ws.terminate();
    }
  }

  terminate(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ownClose = { code: 1006, reason };
    this.ws.terminate();
  }

  #emitClose(code: number, reason: string): void {
    const h = this.#handlers;
    this.#handlers = undefined;
    h?.close(code, reason);
  }

  #ping(): void {
    if (!this.#alive) {
      this.logger.warn({ chargeBoxId: this.chargeBoxId }, 'station missed a pong: closing the link');
      this.#closed = true;
      this.#ownClose = { code: 1006, reason: 'keepalive: no pong within the ping interval' };
      this.ws.terminate();
      return;
    }
    this.#alive = false;
    this.ws.ping();
  }
}
