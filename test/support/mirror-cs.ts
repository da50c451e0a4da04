// A second central system for mirror upstream tests: a real `ws` server that records every frame per station in
// arrival order, answers CALLs with answers of its own (which the gateway must discard), can call the station,
// can require Basic auth or serve wss://, and can stall: complete the handshake and then never read the socket.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface MirrorFrame {
  readonly chargeBoxId: string;
  readonly frame: unknown[];
}

export interface MirrorCsOptions {
  /** user → password the gateway must present. */
  readonly basicAuth?: { readonly user: string; readonly password: string };
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Accept the upgrade, then stop reading: the gateway's writes pile up in the socket and its queue. */
  readonly stall?: boolean;
  readonly port?: number;
}

export interface MirrorCs {
  /** Base URL; the gateway appends /{chargeBoxId}. */
  readonly url: string;
  readonly port: number;
  readonly received: MirrorFrame[];
  /** Handshakes seen (also refused ones), with the Authorization header. */
  readonly handshakes: { chargeBoxId: string; authorization?: string }[];
  waitFor(pred: (f: MirrorFrame) => boolean, timeoutMs?: number): Promise<MirrorFrame>;
  /** Sends a raw frame to a station's socket. */
  send(chargeBoxId: string, frame: unknown[]): void;
  close(): Promise<void>;
}

const PREFIX = '/mirror/';

export async function startMirrorCs(options: MirrorCsOptions = {}): Promise<MirrorCs> {
  const received: MirrorFrame[] = [];
  const handshakes: { chargeBoxId: string; authorization?: string }[] = [];
  const sockets = new Map<string, WebSocket>();
  const raw = new Set<Socket>();
  const waiters = new Set<{ pred: (f: MirrorFrame) => boolean; resolve: (f: MirrorFrame) => void }>();
  const server = options.tls ? https.createServer(options.tls) : http.createServer();
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : false) });

  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    raw.add(socket);
    const url = req.url ?? '';
    const chargeBoxId = decodeURIComponent(url.slice(PREFIX.length));
    handshakes.push({ chargeBoxId, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    if (!url.startsWith(PREFIX)) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    if (options.basicAuth) {
      const want = `Basic ${Buffer.from(`${options.basicAuth.user}:${options.basicAuth.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    }
    if (options.stall) {
      const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n`);
      socket.pause();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(chargeBoxId, ws);
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as unknown[];
        const rec = { chargeBoxId, frame };
        received.push(rec);
        for (const w of waiters) if (w.pred(rec)) { waiters.delete(w); w.resolve(rec); }
        // Its own answers, recognisable: the gateway must never let them reach the station.
        if (frame[0] === 2) ws.send(JSON.stringify([3, frame[1], { currentTime: '1999-01-01T00:00:00.000Z', status: 'Rejected', transactionId: -1 }]));
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/mirror`,
    port,
    received,
    handshakes,
    waitFor(pred, timeoutMs = 5000) {
      const hit = received.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve: (f: MirrorFrame) => { clearTimeout(timer); resolve(f); } };
        const timer = setTimeout(() => { waiters.delete(w); reject(new Error('mirror-cs: waitFor timed out')); }, timeoutMs);
        waiters.add(w);
      });
    },
    send(chargeBoxId, frame) {
      sockets.get(chargeBoxId)?.send(JSON.stringify(frame));
    },
    async close() {
      for (const ws of sockets.values()) ws.terminate();
      for (const s of raw) s.destroy();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
