// The floor under binlog.ts's latency, measured with the same writer, rate and machine: bare @vlasky/zongji
// follows connector_status and writes each row's key as one text frame with bare `ws` to a client in another
// process. That is the path the gateway takes (library → one loopback hop → client) without the reader's
// translation, the event model, Socket.IO or anything else of ours.
// Two roles, forked by binlog.ts:
//   --follow <db url>   ZongJi + ws server; sends { kind: 'ready', port } once both listen
//   --receive <port>    ws client; answers { cmd: 'report' } with its [key, receipt time] pairs
import type { AddressInfo } from 'node:net';
import { wall } from '../lib/proc.js';
import ZongJi, { type AnyBinlogEvent, type WriteRowsEvent } from '@vlasky/zongji';
import WebSocket, { WebSocketServer } from 'ws';
import { parseCdcConfig, type CdcConfig } from '../../src/cdc/index.js';
import { binlogOptions } from '../../src/cdc/db.js';
import type { Receipt } from './clients.js';

const role = process.argv[2];
const value = process.argv[3] ?? '';

if (role === '--follow') {
  const config = parseCdcConfig({ STEVE_DB_URL: value, CDC_SERVER_ID: '912' }) as CdcConfig;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const z = new ZongJi(binlogOptions(config));
  const ready = new Promise<void>((r) => z.once('ready', () => r()));
  z.on('binlog', (ev: AnyBinlogEvent) => {
    if (ev.getEventName() !== 'writerows') return;
    for (const row of (ev as WriteRowsEvent).rows) {
      const key = String(row.error_info);
      for (const client of wss.clients) client.send(key);
    }
  });
  z.start({ serverId: 912, startAtEnd: true, includeEvents: ['tablemap', 'writerows', 'xid'], includeSchema: { [config.database]: ['connector_status'] } });
  await ready;
  process.send?.({ kind: 'ready', port: (wss.address() as AddressInfo).port });
  process.on('message', () => {
    z.stop();
    wss.close();
    process.exit(0);
  });
} else if (role === '--receive') {
  const receipts: Receipt[] = [];
  const ws = new WebSocket(`ws://127.0.0.1:${value}`, { perMessageDeflate: false });
  ws.on('message', (buf) => receipts.push([buf.toString(), wall()]));
  ws.once('open', () => process.send?.({ kind: 'ready' }));
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'report') process.send?.({ kind: 'report', receipts });
    else process.exit(0);
  });
} else {
  console.error('floor-chain: run by binlog.ts with --follow <db url> or --receive <port>');
  process.exit(2);
}
