// The log destination on a real socket whose reader stops reading, then goes: lines beyond the bound are dropped
// and counted at once (never waited for), a flush gives up at its deadline, and after the reader is gone (EPIPE or
// a reset) every line is dropped and counted.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LogSink } from '../src/log-sink.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A connected client socket and the server side, which never reads (paused). */
async function stalledPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const srv = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => srv.once('connection', r));
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  const server = await accepted;
  cleanups.push(() => { client.destroy(); server.destroy(); srv.close(); });
  return { client, server };
}

describe('LogSink', () => {
  it('drops and counts beyond its bound, flushes with a deadline, and drops everything once the reader is gone', async () => {
    const { client, server } = await stalledPair();
    const sink = new LogSink(client, 64 * 1024);
    const line = `${JSON.stringify({ level: 30, msg: 'x'.repeat(4000) })}\n`;
    const t = performance.now();
    // Until the kernel's buffers are full and the sink's bound is reached: how much loopback TCP takes from a reader
    // that does not read depends on the machine (tcp_rmem up to 32 MiB on one), so the test writes until it drops,
    // and some more. At most 200 MB.
    let sent = 0;
    const write = (): void => {
      sink.write(line);
      sent++;
    };
    while (sent < 50_000 && sink.stats().dropped === 0) write();
    for (let i = 0; i < 100; i++) write();
    expect(performance.now() - t).toBeLessThan(2_000); // never waited for the reader
    const full = sink.stats();
    expect(full.dropped).toBeGreaterThan(0);
    expect(full.written + full.dropped).toBe(sent);
    expect(full.bufferedBytes).toBeLessThanOrEqual(64 * 1024);
    expect(full.failed).toBeNull();

    const f = performance.now();
    expect(await sink.flush(200)).toBe(false);
    expect(performance.now() - f).toBeLessThan(1_000);
    // The lines still buffered at the deadline count as lost.
    expect(sink.stats().dropped).toBeGreaterThan(full.dropped);

    server.destroy();
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 10; i++) sink.write(line);
    await new Promise((r) => setTimeout(r, 100));
    const gone = sink.stats();
    expect(gone.failed).toMatch(/EPIPE|ECONNRESET/);
    const before = gone.dropped;
    sink.write(line);
    expect(sink.stats().dropped).toBe(before + 1);
    expect(await sink.flush(1_000)).toBe(false);
  });

  it('flushes everything to a reader that reads', async () => {
    const { client, server } = await stalledPair();
    const sink = new LogSink(client, 1024 * 1024);
    let got = 0;
    server.on('data', (d: Buffer) => (got += d.length));
    server.resume();
    const line = `${JSON.stringify({ level: 30, msg: 'y'.repeat(100) })}\n`;
    for (let i = 0; i < 5_000; i++) sink.write(line);
    expect(await sink.flush(5_000)).toBe(true);
    expect(sink.stats()).toMatchObject({ written: 5_000, dropped: 0, bufferedBytes: 0, failed: null });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toBe(5_000 * line.length);
  });
});
