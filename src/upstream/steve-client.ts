// One outbound ocpp1.6 WebSocket per station to SteVe: STEVE_WS_URL/{chargeBoxId}, optional Basic auth and CA.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import type { Upstream, UpstreamFactory, UpstreamHandlers } from './upstream.js';

export interface SteveClientOptions {
  readonly baseUrl: URL;
  readonly caFile?: string;
  readonly maxFrameBytes: number;
  readonly openTimeoutMs: number;
  /** Password to present for a station (SteVe security profile 1/2), if any. */
  readonly passwordFor: (chargeBoxId: string) => string | undefined;
}

const refusalHint = new Map<number, string>([
  [400, 'SteVe rejected the handshake (bad chargeBoxId or subprotocol)'],
  [401, 'SteVe refused the credentials (check the station password)'],
  [404, 'SteVe does not know this station (add it in SteVe, or enable auto-register)'],
]);

export function steveUpstreamFactory(options: SteveClientOptions): UpstreamFactory {
  const ca = options.caFile ? readFileSync(options.caFile) : undefined;
  const base = options.baseUrl.href.replace(/\/+$/, '');

  return (chargeBoxId: string, handlers: UpstreamHandlers): Upstream => {
    const password = options.passwordFor(chargeBoxId);
    const headers: Record<string, string> = {};
    if (password !== undefined) headers.authorization = `Basic ${Buffer.from(`${chargeBoxId}:${password}`).toString('base64')}`;
    const ws = new WebSocket(`${base}/${encodeURIComponent(chargeBoxId)}`, ['ocpp1.6'], {
      headers,
      maxPayload: options.maxFrameBytes,
      handshakeTimeout: options.openTimeoutMs,
      perMessageDeflate: false,
      ...(ca ? { ca } : {}),
    });
    let done = false;
    const finish = (failure: Parameters<UpstreamHandlers['close']>[0]): void => {
      if (done) return;
      done = true;
      handlers.close(failure);
    };

    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      finish({ kind: 'refused', httpStatus: status, message: `${refusalHint.get(status) ?? 'SteVe refused the connection'} (HTTP ${status})` });
      ws.terminate();
    });
    ws.on('open', () => {
      if (ws.protocol !== 'ocpp1.6') {
        finish({ kind: 'refused', httpStatus: 101, message: 'SteVe did not accept subprotocol ocpp1.6' });
        ws.close(1002, 'ocpp1.6 required');
        return;
      }
      handlers.open();
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) handlers.message(data.toString());
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      finish({ kind: 'unreachable', message: `SteVe unreachable: ${err.code ?? err.message}` });
    });
    ws.on('close', (code, reason) => {
      finish({ kind: 'closed', code, message: `SteVe closed the connection (${code}${reason.length ? ` ${reason.toString()}` : ''})` });
    });

    return {
      kind: 'steve',
      send(text, _frame, bytes) {
        // The station's own bytes, when the link kept them: no UTF-8 encoding of a large string on the way out.
        if (ws.readyState === WebSocket.OPEN) ws.send(bytes ?? text, { binary: false });
      },
      close(code, reason) {
        done = true; // our own close: no failure to report
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(code, reason);
      },
    };
  };
}
