// The station endpoint: ws(s)://HOST:PORT/ocpp/{chargeBoxId}, subprotocol ocpp1.6, optional Basic auth,
// keepalive pings, frame size limit. Every accepted socket becomes a StationLink handed to `attach`.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import type pino from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { clip } from '../ocpp/wire-text.js';
import { CloseCode, type StationLink } from './link.js';
import { WsStationLink } from './ws-link.js';

export const STATION_PATH_PREFIX = '/ocpp/';

export interface StationEndpointOptions {
  readonly server: http.Server;
  readonly attach: (link: StationLink) => void;
  readonly logger: pino.Logger;
  readonly maxFrameBytes: number;
  readonly pingIntervalMs: number;
  /** The password a station must present, or undefined when it needs none. */
  readonly passwordFor: (chargeBoxId: string) => string | undefined;
  readonly requireAuth: boolean;
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

function refuse(socket: Duplex, status: number, statusText: string, why: string, extra: Record<string, string> = {}): void {
  const body = `${why}\n`;
  const headers = {
    Connection: 'close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  };
  socket.end(`HTTP/1.1 ${status} ${statusText}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

function passwordMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
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

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = req.url ?? '';
    if (!url.startsWith(STATION_PATH_PREFIX)) return; // another listener (Socket.IO) owns it
    socket.on('error', () => socket.destroy());
    const rawId = url.slice(STATION_PATH_PREFIX.length).split('?')[0] ?? '';
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

    const expected = options.passwordFor(id);
    if (expected !== undefined || options.requireAuth) {
      const header = req.headers.authorization ?? '';
      const decoded = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : undefined;
      const colon = decoded?.indexOf(':') ?? -1;
      const user = decoded !== undefined && colon >= 0 ? decoded.slice(0, colon) : undefined;
      const password = decoded !== undefined && colon >= 0 ? decoded.slice(colon + 1) : undefined;
      const ok = expected !== undefined && user === id && password !== undefined && passwordMatches(password, expected);
      if (!ok) {
        options.logger.warn({ chargeBoxId: id, remoteAddress: req.socket.remoteAddress, hadCredentials: decoded !== undefined }, 'station refused: Basic auth failed');
        return refuse(socket, 401, 'Unauthorized', 'HTTP Basic auth required: username = chargeBoxId, password as configured', {
          'WWW-Authenticate': 'Basic realm="chargebridge", charset="UTF-8"',
        });
      }
    }

    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const link = new WsStationLink(ws, id, req.socket.remoteAddress, options.pingIntervalMs, options.logger);
      links.add(link);
      ws.once('close', () => links.delete(link));
      options.attach(link);
    });
  };

  options.server.on('upgrade', onUpgrade);
  return {
    openLinks: () => links.size,
    close() {
      options.server.off('upgrade', onUpgrade);
      for (const link of links) link.close(CloseCode.goingAway, 'gateway shutting down');
      wss.close();
    },
  };
}
