// Child process for the push benches (run.ts, binlog.ts): opens many Socket.IO clients and records when each
// status event arrives. Clients speak the Engine.IO v4 / Socket.IO v5 wire protocol directly over `ws`, so that
// thousands of them fit in one process; the server side is the real push server.
// Receipts are raw (data.info, receivedAt) pairs: the parent owns the meaning of info (a send time in run.ts,
// a row key in binlog.ts) and computes latencies from its own records.
import { wall } from '../lib/proc.js';
import WebSocket from 'ws';

/** Client i subscribes to stations[i]. */
interface Start { cmd: 'start'; url: string; token: string; stations: string[] }
type Msg = Start | { cmd: 'report' } | { cmd: 'close' };
/** [data.info, receipt time as wall() of bench/lib/proc.ts] */
export type Receipt = [string, number];

const sockets: WebSocket[] = [];
let receipts: Receipt[] = [];
let connected = 0;
let failed = 0;

function open(url: string, token: string, station: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    sockets.push(ws);
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      if (ok) connected++;
      else failed++;
      resolve();
    };
    ws.on('message', (buf) => {
      const text = buf.toString();
      const now = wall();
      switch (text[0]) {
        case '0': // engine open → socket.io connect with the token in auth
          ws.send(`40${JSON.stringify({ token })}`);
          return;
        case '2': // engine ping
          ws.send('3');
          return;
        case '4':
          if (text.startsWith('40')) ws.send(`420${JSON.stringify(['subscribe', { chargeBoxIds: [station] }])}`);
          else if (text.startsWith('44')) finish(false);
          else if (text.startsWith('430')) finish(true);
          else if (text.startsWith('42["event"')) {
            const [, ev] = JSON.parse(text.slice(2)) as [string, { type: string; data: { info?: unknown } }];
            if (ev.type === 'status' && typeof ev.data.info === 'string') receipts.push([ev.data.info, now]);
          }
          return;
        default:
      }
    });
    ws.on('error', () => finish(false));
    ws.on('close', () => finish(false));
  });
}

process.on('message', (raw: unknown) => {
  const msg = raw as Msg;
  if (msg.cmd === 'start') {
    void (async () => {
      // A few hundred handshakes in flight at a time.
      const batch = 200;
      for (let i = 0; i < msg.stations.length; i += batch) {
        await Promise.all(msg.stations.slice(i, i + batch).map((station) => open(msg.url, msg.token, station)));
      }
      process.send?.({ kind: 'ready', connected, failed });
    })();
  } else if (msg.cmd === 'report') {
    process.send?.({ kind: 'report', receipts });
    receipts = [];
  } else {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
