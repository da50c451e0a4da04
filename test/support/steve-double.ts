// A real `ws` server that answers like SteVe's OCPP 1.6J endpoint (facts in shared/reference/steve.md §2–3):
// subprotocol ocpp1.6 required, 404 for unknown stations, optional Basic auth, a GetConfiguration CALL after every
// connect, SteVe-shaped answers, 1011 close on unknown answer ids and on CALLERROR codes outside OCPP 1.6.
// Used by tests and benchmarks in place of SteVe.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface ReceivedFrame {
  readonly chargeBoxId: string;
  readonly raw: string;
  readonly frame: unknown[];
  readonly at: number;
}

export interface SteveDoubleOptions {
  /** Stations SteVe knows; 'any' accepts every id (auto-register). Default 'any'. */
  readonly knownStations?: readonly string[] | 'any';
  /** chargeBoxId → password: the station must present HTTP Basic auth. */
  readonly basicAuth?: Readonly<Record<string, string>>;
  /** Send GetConfiguration after every connect, as SteVe ≥ 3.13 does. Default true. */
  readonly getConfigurationOnConnect?: boolean;
  /** Override or add answers: return the CALLRESULT payload, or undefined to answer nothing. */
  readonly handlers?: Readonly<Record<string, (payload: Record<string, unknown>, chargeBoxId: string) => unknown>>;
  readonly port?: number;
  /** Serve wss:// with this certificate and key (PEM). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Delay before accepting each upgrade, to hold upstreams in their opening state. */
  readonly upgradeDelayMs?: number;
}

export interface SteveDouble {
  /** ws://127.0.0.1:PORT/steve/websocket/CentralSystemService (append /{chargeBoxId}). */
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedFrame[];
  readonly sockets: Map<string, WebSocket>;
  /** Closes seen per station: code and reason from the station side. */
  readonly closes: { chargeBoxId: string; code: number; reason: string }[];
  waitFor(pred: (f: ReceivedFrame) => boolean, timeoutMs?: number): Promise<ReceivedFrame>;
  call(chargeBoxId: string, action: string, payload: unknown, timeoutMs?: number): Promise<unknown[]>;
  /** Sends raw text to a station's socket. */
  sendRaw(chargeBoxId: string, text: string): void;
  close(): Promise<void>;
}

const PATH_PREFIX = '/steve/websocket/CentralSystemService/';
const OCPP16_ERROR_CODES = new Set([
  'NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError', 'SecurityError', 'FormationViolation',
  'PropertyConstraintViolation', 'OccurenceConstraintViolation', 'TypeConstraintViolation', 'GenericError',
]);

export async function startSteveDouble(options: SteveDoubleOptions = {}): Promise<SteveDouble> {
  const known = options.knownStations ?? 'any';
  const received: ReceivedFrame[] = [];
  const sockets = new Map<string, WebSocket>();
  const closes: { chargeBoxId: string; code: number; reason: string }[] = [];
  const waiters = new Set<{ pred: (f: ReceivedFrame) => boolean; resolve: (f: ReceivedFrame) => void }>();
  const pending = new Map<string, (frame: unknown[]) => void>();
  let nextTx = 1;
  let callSeq = 0;

  const notFound = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(404).end();
  };
  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, notFound) : http.createServer(notFound);
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('ocpp1.6') ? 'ocpp1.6' : false),
  });

  server.on('upgrade', (req, socket, head) => {
    const reject = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = req.url ?? '';
    if (!url.startsWith(PATH_PREFIX)) return reject(404, 'Not Found');
    const id = decodeURIComponent(url.slice(PATH_PREFIX.length));
    if (!req.headers['sec-websocket-protocol']) return reject(400, 'Bad Request');
    if (known !== 'any' && !known.some((k) => k.toLowerCase() === id.toLowerCase())) return reject(404, 'Not Found');
    const expected = options.basicAuth?.[id];
    if (expected !== undefined) {
      const header = req.headers.authorization ?? '';
      const given = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : '';
      if (given !== `${id}:${expected}`) return reject(401, 'Unauthorized');
    }
    const protocols = String(req.headers['sec-websocket-protocol']).split(',').map((p) => p.trim());
    if (!protocols.includes('ocpp1.6')) return reject(404, 'Not Found');
    const accept = (): void => wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, id));
    if (options.upgradeDelayMs) setTimeout(accept, options.upgradeDelayMs);
    else accept();
  });

  function answer(ws: WebSocket, id: string, action: string, payload: Record<string, unknown>, chargeBoxId: string): void {
    const custom = options.handlers?.[action];
    let result: unknown;
    if (custom) {
      result = custom(payload, chargeBoxId);
      if (result === undefined) return;
    } else {
      const now = new Date().toISOString();
      switch (action) {
        case 'BootNotification': result = { status: 'Accepted', currentTime: now, interval: 14400 }; break;
        case 'Heartbeat': result = { currentTime: now }; break;
        case 'Authorize': result = { idTagInfo: { status: 'Accepted' } }; break;
        case 'StartTransaction': result = { transactionId: nextTx++, idTagInfo: { status: 'Accepted' } }; break;
        case 'StopTransaction': result = payload.idTag ? { idTagInfo: { status: 'Accepted' } } : {}; break;
        case 'DataTransfer': result = { status: 'Rejected' }; break; // SteVe ≥ 3.13
        default: result = {};
      }
    }
    ws.send(JSON.stringify([3, id, result]));
  }

  function onConnection(ws: WebSocket, chargeBoxId: string): void {
    sockets.set(chargeBoxId, ws);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'binary');
      const raw = data.toString();
      let frame: unknown[];
      try {
        frame = JSON.parse(raw) as unknown[];
        if (!Array.isArray(frame) || ![2, 3, 4].includes(frame[0] as number)) throw new Error('not OCPP-J');
      } catch {
        ws.close(1011, 'malformed');
        return;
      }
      const rec: ReceivedFrame = { chargeBoxId, raw, frame, at: performance.now() };
      received.push(rec);
      for (const w of waiters) if (w.pred(rec)) { waiters.delete(w); w.resolve(rec); }
      // SteVe's ErrorFactory knows only the 1.6 codes: any other one throws, and Spring closes with 1011.
      if (frame[0] === 4 && !OCPP16_ERROR_CODES.has(String(frame[2]))) {
        ws.close(1011, 'unknown error code');
        return;
      }
      if (frame[0] === 2) {
        answer(ws, String(frame[1]), String(frame[2]), (frame[3] ?? {}) as Record<string, unknown>, chargeBoxId);
      } else {
        const key = `${chargeBoxId}\u0000${String(frame[1])}`;
        const p = pending.get(key);
        if (!p) return ws.close(1011, 'unknown message id');
        pending.delete(key);
        p(frame);
      }
    });
    ws.on('close', (code, reason) => {
      closes.push({ chargeBoxId, code, reason: reason.toString() });
      if (sockets.get(chargeBoxId) === ws) sockets.delete(chargeBoxId);
    });
    if (options.getConfigurationOnConnect ?? true) {
      void call(chargeBoxId, 'GetConfiguration', {}).catch(() => undefined);
    }
  }

  function call(chargeBoxId: string, action: string, payload: unknown, timeoutMs = 30_000): Promise<unknown[]> {
    const ws = sockets.get(chargeBoxId);
    if (!ws) return Promise.reject(new Error(`${chargeBoxId} not connected`));
    const id = `steve-${++callSeq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(`${chargeBoxId}\u0000${id}`);
        reject(new Error(`${action} to ${chargeBoxId} timed out`));
      }, timeoutMs);
      pending.set(`${chargeBoxId}\u0000${id}`, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      ws.send(JSON.stringify([2, id, action, payload]));
    });
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/steve/websocket/CentralSystemService`,
    port,
    received,
    sockets,
    closes,
    waitFor(pred, timeoutMs = 5000) {
      const hit = received.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (f: ReceivedFrame) => { clearTimeout(timer); resolve(f); } };
        const timer = setTimeout(() => { waiters.delete(w); reject(new Error('steve-double: waitFor timed out')); }, timeoutMs);
        waiters.add(w);
      });
    },
    call,
    sendRaw(chargeBoxId, text) {
      sockets.get(chargeBoxId)?.send(text);
    },
    async close() {
      for (const ws of sockets.values()) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
