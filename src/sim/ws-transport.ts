// WebSocket client transport (subprotocol ocpp1.6): a simulated station connects to any OCPP-J endpoint, the
// gateway's ws://HOST:PORT/ocpp/{id} or SteVe's /steve/websocket/CentralSystemService/{id}.
import { WebSocket } from 'ws';
import type { SimTransport } from './transport.js';

/** The URL for one station: `{id}` in the target is replaced, otherwise the id is appended as the last segment. */
export function stationUrl(target: string, chargeBoxId: string): string {
  const id = encodeURIComponent(chargeBoxId);
  if (target.includes('{id}')) return target.replace('{id}', id);
  return target.endsWith('/') ? `${target}${id}` : `${target}/${id}`;
}

export function wsTransport(target: string, options: { handshakeTimeoutMs?: number } = {}): SimTransport {
  return {
    kind: 'ws',
    connect(chargeBoxId, handlers, opts) {
      const headers: Record<string, string> = {};
      if (opts?.password !== undefined) {
        headers.authorization = `Basic ${Buffer.from(`${chargeBoxId}:${opts.password}`).toString('base64')}`;
      }
      const ws = new WebSocket(stationUrl(target, chargeBoxId), ['ocpp1.6'], {
        perMessageDeflate: false,
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
        headers,
      });
      let closed = false;
      const finish = (code: number, reason: string): void => {
        if (closed) return;
        closed = true;
        handlers.close(code, reason);
      };
      ws.on('open', () => handlers.open());
      ws.on('message', (data, isBinary) => {
        if (!isBinary) handlers.message(data.toString());
      });
      ws.on('unexpected-response', (_req, res) => {
        finish(1006, `HTTP ${res.statusCode ?? 0}`);
        ws.terminate();
      });
      ws.on('error', (err) => finish(1006, err.message));
      ws.on('close', (code, reason) => finish(code, reason.toString()));
      return {
        send(text) {
          if (ws.readyState !== WebSocket.OPEN) return false;
          ws.send(text);
          return true;
        },
        close(code, reason, abrupt = false) {
          if (abrupt || ws.readyState !== WebSocket.OPEN) ws.terminate();
          else ws.close(code, reason);
        },
      };
    },
  };
}
