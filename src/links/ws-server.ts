// The station endpoint: ws(s)://HOST:PORT/ocpp/{chargeBoxId}, subprotocol ocpp1.6, authentication (station-auth.ts),
// keepalive pings, frame size limit. Every accepted socket becomes a StationLink handed to `attach`.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type pino from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { clip } from '../ocpp/wire-text.js';
import { CloseCode, type StationLink } from './link.js';
import type { AuthVerdict, StationAuthenticator, UpstreamPasswords } from './station-auth.js';
import { WsStationLink } from './ws-link.js';

export const STATION_PATH_PREFIX = '/ocpp/';

export interface StationEndpointOptions {
  readonly server: http.Server;
  readonly attach: (link: StationLink) => void;
  readonly logger: pino.Logger;
  readonly maxFrameBytes: number;
  readonly pingIntervalMs: number;
  /** Decides whether a station may connect (station-auth.ts). */
  readonly authenticate: StationAuthenticator;
  /** Where a link's upstream password is held while it lives (a learned key SteVe set). */
  readonly upstreamPasswords?: UpstreamPasswords;
}

export interface StationEndpoint {
  readonly openLinks: () => number;
  close(): void;
}

/** SteVe keeps chargeBoxIds in a varchar(255). */
export const MAX_CHARGE_BOX_ID_LENGTH = 255;

/**
 * SteVe's rule: not empty, no leading/trailing whitespace, none of = / ( ) < >, at most 255 characters. Also not
 * "." or "..": the id is the last segment of SteVe's URL, and a URL normaliser would turn those into another path.
 */
export function chargeBoxIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'chargeBoxId is empty';
  if (id.length > MAX_CHARGE_BOX_ID_LENGTH) return `chargeBoxId is longer than ${MAX_CHARGE_BOX_ID_LENGTH} characters`;
  if (id === '.' || id === '..') return 'chargeBoxId "." or ".." is a path segment, not an id';
  if (id.trim() !== id) return 'chargeBoxId has leading or trailing whitespace';
  if (/[=/()<>]/.test(id)) return 'chargeBoxId contains one of = / ( ) < >';
  return undefined;
}

function refuse(socket: Duplex, status: number, statusText: string, why: string, extra: Readonly<Record<string, string>> = {}): void {
  const body = `${why}\n`;
  const headers = {
    Connection: 'close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  };
  socket.end(`HTTP/1.1 ${status} ${statusText}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

export function createStationEndpoint(options: StationEndpointOptions): StationEndpoint {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
  });
  const links = new Set<WsStationLink>();
  let closed = false;

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? '';
    if (!url.startsWith(STATION_PATH_PREFIX)) return; // another listener (Socket.IO) owns it
    socket.on('error', () => socket.destroy());
    const rawId = url.slice(STATION_PATH_PREFIX.length).split('?')[0] ?? '';
    // MicroOcpp appends "/" + id to its backend URL: a URL configured with a trailing slash arrives as /ocpp//ID.
    if (rawId.startsWith('/')) {
      return refuse(socket, 400, 'Bad Request', `the path has "//" after ${STATION_PATH_PREFIX.slice(0, -1)}: set the charger's backend URL to ws://HOST:PORT/ocpp, without a trailing slash`);
    }
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      return refuse(socket, 400, 'Bad Request', 'chargeBoxId is not valid URL encoding');
    }
    const idProblem = chargeBoxIdProblem(id);
    if (idProblem) return refuse(socket, 400, 'Bad Request', idProblem);

    const offered = req.headers['sec-websocket-protocol'];
    if (offered === undefined) {
      return refuse(socket, 400, 'Bad Request', 'Sec-WebSocket-Protocol header missing: this endpoint speaks ocpp1.6');
    }
    if (!offered.split(',').map((p) => p.trim()).includes('ocpp1.6')) {
      return refuse(socket, 400, 'Bad Request', `unsupported subprotocol "${clip(offered, 60)}": this endpoint speaks ocpp1.6`);
    }

    const verdict = options.authenticate(id, req);
    if (verdict instanceof Promise) {
      verdict.then(
        (v) => accept(id, v, req, socket, head),
        (err: unknown) => {
          options.logger.error({ chargeBoxId: id, err }, 'station authentication failed');
          refuse(socket, 500, 'Internal Server Error', 'station authentication failed: see the gateway log');
        },
      );
    } else {
      accept(id, verdict, req, socket, head);
    }
  };

  const accept = (id: string, verdict: AuthVerdict, req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (socket.destroyed) return; // gave up while its password was checked
    if (closed) return refuse(socket, 503, 'Service Unavailable', 'gateway shutting down');
    if (!verdict.ok) {
      options.logger.warn({ chargeBoxId: id, remoteAddress: req.socket.remoteAddress, status: verdict.status, why: verdict.why }, 'station refused');
      const text = verdict.status === 401 ? 'Unauthorized' : verdict.status === 403 ? 'Forbidden' : 'Service Unavailable';
      return refuse(socket, verdict.status, text, verdict.why, verdict.headers);
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const link = new WsStationLink(ws, id, req.socket.remoteAddress, options.pingIntervalMs, options.logger);
      links.add(link);
      options.upstreamPasswords?.hold(id, link, verdict.upstreamPassword);
      ws.once('close', () => {
        links.delete(link);
        options.upstreamPasswords?.release(id, link);
      });
      options.attach(link);
    });
  };

  options.server.on('upgrade', onUpgrade);
  return {
    openLinks: () => links.size,
    close() {
      closed = true;
      options.server.off('upgrade', onUpgrade);
      for (const link of links) link.close(CloseCode.goingAway, 'gateway shutting down');
      wss.close();
    },
  };
}
