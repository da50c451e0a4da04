// The recording upstream: a `ws` server speaking ocpp1.6 in SteVe's place. It judges every frame the gateway
// relays (anything SteVe would close the socket over is a violation), answers CALLs like a permissive SteVe, and
// sends CALLs of its own to hostile stations so their bad answers have something to be bad about.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { WebSocketServer, type WebSocket } from 'ws';
import type { JudgeReply, JudgeRequest } from './judge-worker.js';
import { judgeFrame, sample, type FrameHead } from './ocpp-check.js';
import type { Violations } from './violations.js';

/** Frames this large are judged in the worker (judge-worker.ts); smaller ones cost less than the hand-over. */
const JUDGE_APART_BYTES = 64 * 1024;

/** The judge worker, started from sources: workers do not inherit tsx's loader, so it is registered first. */
function judgeWorker(): Worker {
  const entry = new URL('./judge-worker.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true });
}

export const UPSTREAM_PATH = '/steve/websocket/CentralSystemService';

/** SteVe closes with 1011 when an answer comes more than 30 s after its call. */
const STEVE_ANSWER_WINDOW_MS = 30_000;

/** Same characters as the gateway's own rule, plus the dot segments a URL parser would fold away. */
function unsafeId(id: string): boolean {
  return id === '' || id === '.' || id === '..' || id.trim() !== id || /[=/()<>]/.test(id);
}

export interface RecordingUpstream {
  readonly url: string;
  readonly received: () => number;
  readonly answered: () => number;
  /** Resolves once every frame handed to the judge worker has its verdict (before a report is read). */
  settled(): Promise<void>;
  /** Starts sending one CALL every `intervalMs` to each session whose chargeBoxId passes `target`. */
  startCalls(intervalMs: number, target: (chargeBoxId: string) => boolean): void;
  close(): Promise<void>;
}

function answerFor(action: string): object | undefined {
  const now = new Date().toISOString();
  switch (action) {
    case 'BootNotification': return { status: 'Accepted', currentTime: now, interval: 300 };
    case 'Heartbeat': return { currentTime: now };
    case 'Authorize': case 'StartTransaction': case 'StopTransaction': return action === 'StartTransaction' ? { transactionId: 1, idTagInfo: { status: 'Accepted' } } : { idTagInfo: { status: 'Accepted' } };
    case 'DataTransfer': return { status: 'Accepted' };
    case 'StatusNotification': case 'MeterValues': case 'DiagnosticsStatusNotification': case 'FirmwareStatusNotification': return {};
    default: return undefined;
  }
}

export async function startRecordingUpstream(violations: Violations): Promise<RecordingUpstream> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  // No maxPayload below SteVe's 8 MiB: the gateway's own limit is what is under test.
  const wss = new WebSocketServer({ server, maxPayload: 16 * 1024 * 1024, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : false) });
  const sessions = new Map<WebSocket, { id: string; outstanding: Map<string, number> }>();
  let received = 0;
  let answered = 0;
  let callSeq = 0;
  let caller: NodeJS.Timeout | undefined;
  const judge = judgeWorker();
  let judged = 0;
  const awaiting = new Map<number, (r: JudgeReply) => void>();
  judge.on('message', (r: JudgeReply) => {
    awaiting.get(r.n)?.(r);
    awaiting.delete(r.n);
  });
  judge.on('error', (err) => violations.add('upstream-judge', `the stand-in's judge worker failed: ${String(err)}`));

  wss.on('connection', (ws, req) => {
    const url = req.url ?? '';
    const segment = url.startsWith(`${UPSTREAM_PATH}/`) ? url.slice(UPSTREAM_PATH.length + 1) : undefined;
    let id: string | undefined;
    try {
      id = segment === undefined || segment.includes('/') ? undefined : decodeURIComponent(segment);
    } catch {
      id = undefined;
    }
    if (id === undefined || unsafeId(id)) {
      violations.add('upstream-path', `the gateway opened the upstream at ${sample(url, 120)} (SteVe would see another chargeBoxId or path)`);
      ws.close(1008, 'bad path');
      return;
    }
    if (ws.protocol !== 'ocpp1.6') violations.add('upstream-subprotocol', `upstream socket for ${id} without subprotocol ocpp1.6`);
    const session = { id, outstanding: new Map<string, number>() };
    sessions.set(ws, session);
    // SteVe asks every newly connected station for its configuration.
    sendCall(ws, session, 'GetConfiguration', {});
    // `text`: a sample of the frame for a violation's message (made only then, for small frames).
    const act = (frame: FrameHead, text: () => string): void => {
      if (frame.type === 2) {
        const conf = answerFor(frame.action);
        if (ws.readyState !== ws.OPEN) return;
        ws.send(conf ? JSON.stringify([3, frame.id, conf]) : JSON.stringify([4, frame.id, 'NotImplemented', `unknown action ${frame.action.slice(0, 40)}`, {}]));
        answered++;
        return;
      }
      const sentAt = session.outstanding.get(frame.id);
      if (sentAt === undefined) return violations.add('malformed-upstream', `answer to an id the upstream has not asked or already had answered: ${text()} (from ${id})`);
      session.outstanding.delete(frame.id);
      if (Date.now() - sentAt > STEVE_ANSWER_WINDOW_MS) violations.add('malformed-upstream', `answer ${Math.round((Date.now() - sentAt) / 1000)} s after the call (SteVe allows 30 s): ${text()}`);
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      received++;
      if (isBinary) return violations.add('malformed-upstream', `binary frame of ${data.length} bytes reached the upstream from ${id}`);
      if (data.length >= JUDGE_APART_BYTES) {
        // Handed over as it is when the frame owns its memory (`ws` joins a large frame's pieces into a buffer of its
        // own); a copy when it is a slice of a larger one. A copy is a fresh megabyte for this process to fault in.
        const owns = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
        const bytes = owns ? (data.buffer as ArrayBuffer) : new Uint8Array(data).buffer;
        const n = ++judged;
        awaiting.set(n, (r) => (r.ok ? act(r.head, () => r.sample) : violations.add('malformed-upstream', `${r.problem}: ${r.sample} (from ${id})`)));
        judge.postMessage({ n, bytes } satisfies JudgeRequest, [bytes]);
        return;
      }
      const text = data.toString('utf8');
      const verdict = judgeFrame(text);
      if (!verdict.ok) return violations.add('malformed-upstream', `${verdict.problem}: ${sample(text)} (from ${id})`);
      act(verdict.frame, () => sample(text));
    });
    ws.on('close', () => sessions.delete(ws));
    ws.on('error', () => undefined);
  });

  function sendCall(ws: WebSocket, session: { outstanding: Map<string, number> }, action: string, payload: object): void {
    if (ws.readyState !== ws.OPEN || session.outstanding.size > 1000) return;
    const id = `up-${++callSeq}`;
    session.outstanding.set(id, Date.now());
    ws.send(JSON.stringify([2, id, action, payload]));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}${UPSTREAM_PATH}`,
    received: () => received,
    answered: () => answered,
    async settled() {
      const deadline = Date.now() + 30_000;
      while (awaiting.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (awaiting.size > 0) violations.add('upstream-judge', `${awaiting.size} large frames never judged (the judge worker did not answer within 30 s)`);
    },
    startCalls(intervalMs, target) {
      caller = setInterval(() => {
        for (const [ws, session] of sessions) {
          if (target(session.id)) sendCall(ws, session, 'TriggerMessage', { requestedMessage: 'Heartbeat' });
        }
      }, intervalMs);
    },
    async close() {
      if (caller) clearInterval(caller);
      await judge.terminate();
      for (const ws of sessions.keys()) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
