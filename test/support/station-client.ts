// A plain OCPP-J station over a real WebSocket, for tests: send frames, await answers, see everything received.
import WebSocket from 'ws';

export interface StationClient {
  readonly ws: WebSocket;
  readonly received: unknown[][];
  readonly closed: Promise<{ code: number; reason: string }>;
  call(action: string, payload: unknown, id?: string): Promise<unknown[]>;
  sendRaw(text: string): void;
  waitFor(pred: (frame: unknown[]) => boolean, timeoutMs?: number): Promise<unknown[]>;
  close(): void;
}

export interface ConnectOptions {
  readonly protocols?: string[];
  readonly headers?: Record<string, string>;
  readonly autoPong?: boolean;
  /** Answer CALLs from the central system automatically with {} (default true). */
  readonly autoAnswer?: boolean;
  /** For wss://: the CA to trust for the gateway, and a client certificate (security profile 3). */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

let seq = 0;

export function connectStation(url: string, options: ConnectOptions = {}): Promise<StationClient> {
  const ws = new WebSocket(url, options.protocols ?? ['ocpp1.6'], {
    headers: options.headers ?? {},
    autoPong: options.autoPong ?? true,
    ...(options.tls ?? {}),
  });
  const received: unknown[][] = [];
  const waiters = new Set<{ pred: (f: unknown[]) => boolean; resolve: (f: unknown[]) => void }>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('message', (data) => {
    let frame: unknown[];
    try {
      frame = JSON.parse(data.toString()) as unknown[];
    } catch {
      return;
    }
    received.push(frame);
    for (const w of waiters) if (w.pred(frame)) { waiters.delete(w); w.resolve(frame); }
    if (frame[0] === 2 && (options.autoAnswer ?? true)) ws.send(JSON.stringify([3, frame[1], {}]));
  });
  const waitFor = (pred: (f: unknown[]) => boolean, timeoutMs = 5000): Promise<unknown[]> => {
    const hit = received.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (f: unknown[]) => { clearTimeout(timer); resolve(f); } };
      const timer = setTimeout(() => { waiters.delete(w); reject(new Error('station-client: waitFor timed out')); }, timeoutMs);
      waiters.add(w);
    });
  };
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body.trim()}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
    ws.once('open', () => {
      resolve({
        ws,
        received,
        closed,
        call(action, payload, id = `m${++seq}`) {
          ws.send(JSON.stringify([2, id, action, payload]));
          return waitFor((f) => (f[0] === 3 || f[0] === 4) && f[1] === id);
        },
        sendRaw(text) {
          ws.send(text);
        },
        waitFor,
        close() {
          ws.close(1000, 'test done');
        },
      });
    });
  });
}
