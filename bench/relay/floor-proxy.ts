// The floor under the relay: a bare `ws` pass-through proxy (no parsing, no bookkeeping, no observers) in its own
// process. What it adds over the direct path is what one extra process hop costs on this machine.
import { WebSocketServer, WebSocket } from 'ws';

const upstreamBase = process.env.UPSTREAM_URL as string;
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, handleProtocols: () => 'ocpp1.6' });
wss.on('connection', (station, req) => {
  const id = (req.url ?? '').replace(/^\/ocpp\//, '');
  const upstream = new WebSocket(`${upstreamBase}/${id}`, ['ocpp1.6'], { perMessageDeflate: false });
  const waiting: string[] = [];
  upstream.on('open', () => { for (const t of waiting.splice(0)) upstream.send(t); });
  station.on('message', (d) => {
    const text = d.toString();
    if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
    else waiting.push(text);
  });
  upstream.on('message', (d) => station.send(d.toString()));
  station.on('close', () => upstream.close());
  upstream.on('close', () => station.close());
  upstream.on('error', () => station.terminate());
});
wss.on('listening', () => {
  const addr = wss.address();
  process.stdout.write(`"port":${addr !== null && typeof addr === 'object' ? addr.port : 0}\n`);
});
