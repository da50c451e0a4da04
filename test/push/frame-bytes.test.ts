// The live frame stream's per-client queue is bounded in bytes as well as in count: a slow operator watching a
// station that sends large frames holds at most PUSH_FRAME_QUEUE_BYTES of them, and loses (and is told of) the rest.
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import { ack, collect, connect, operatorToken, startPushGateway, until, type PushGateway } from './support/harness.js';

let pg: PushGateway;
beforeAll(async () => {
  pg = await startPushGateway({ PUSH_FRAME_QUEUE_LIMIT: '1000', PUSH_FRAME_QUEUE_BYTES: '65536', PUSH_SOCKET_BUFFER_PACKETS: '8' });
});
afterAll(async () => {
  await pg?.close();
});

describe('frame stream byte budget', () => {
  it('a slow subscriber of large frames holds at most PUSH_FRAME_QUEUE_BYTES of them; the rest are lost and counted', async () => {
    const s = await connect(pg.url, { token: operatorToken() });
    const lost = collect<{ lost: number; totalLost: number }>(s, 'frames:lost');
    const frames = collect<LogEntry>(s, 'frame');
    await ack(s, 'frames:subscribe', { chargeBoxIds: ['BIG'] });
    const ws = (s.io.engine as unknown as { transport: { ws: WebSocket } }).transport.ws;
    ws.pause();
    const raw = JSON.stringify([2, 'x', 'DataTransfer', { vendorId: 'V', data: 'y'.repeat(4000) }]);
    const fits = Math.floor(65536 / (raw.length * 4 + 512));
    let sent = 0;
    let maxQueued = 0;
    for (let i = 0; i < 20_000 && pg.push.stats().dropped.framesDropped < 200; i++) {
      const entry: LogEntry = {
        id: 2_000_000 + i, time: new Date().toISOString(), atUs: Date.now() * 1000, chargeBoxId: 'BIG', linkKind: 'sim', leg: 'station',
        direction: 'in', origin: 'station', disposition: 'forwarded', raw, messageType: 'CALL', action: 'DataTransfer', messageId: `x${i}`, findings: [],
      };
      pg.gw.bus.emit('logged', entry);
      sent++;
      maxQueued = Math.max(maxQueued, pg.push.stats().clientsWithDrops.find((c) => c.id === s.id)?.queued ?? 0);
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    const dropped = pg.push.stats().dropped.framesDropped;
    expect(dropped).toBeGreaterThanOrEqual(200);
    // The count limit (1000) was never what bound it: the bytes were.
    expect(maxQueued).toBeLessThanOrEqual(fits);
    ws.resume();
    await until(() => frames.length + dropped >= sent, 20_000, 'all surviving frames');
    expect(frames.length + dropped).toBe(sent);
    await until(() => lost.length > 0, 5000, 'frames:lost notice');
    expect(lost.at(-1)!.totalLost).toBe(dropped);
    s.close();
  }, 60_000);
});
