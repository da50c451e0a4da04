// End to end over real pseudo terminals: C++ device stand-ins (the firmware-bridge BridgeLink) on one end,
// the gateway's serial links on the other, relayed by the real relay to a real ws SteVe stand-in.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeControl, encodeMessage, messageBytes } from '../../src/serial/codec.js';
import { PROTOCOL_VERSION } from '../../src/serial/protocol.js';
import { answerGetConfiguration, boardCall, startHarness, type Harness } from './support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

const sampled = (wh: number) => [{
  timestamp: new Date().toISOString(),
  sampledValue: [
    { value: String(wh), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
    { value: '7200', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
  ],
}];

describe('serial links over a pty', () => {
  it('carries a full charging session to SteVe byte for byte, with debug text interleaved at random', async () => {
    h = await startHarness([{ name: 'a', chargeBoxId: 'FC-SER-1', device: { mtu: 256, rx: 512 } }]);
    const [{ device }] = h.boards as [Harness['boards'][number]];
    const rand = rng(5);
    const logLines: string[] = [];
    const chatter = (): void => {
      while (rand() < 0.6) {
        const line = `I (${Math.floor(rand() * 1e6)}) fc: relay ${rand() < 0.5 ? 'on' : 'off'}, cp=${(rand() * 12).toFixed(2)} V ⚡`;
        logLines.push(line);
        device.command(`log ${line}`);
      }
    };
    chatter();
    await device.waitFor((e) => e.ev === 'up');
    await answerGetConfiguration(device);
    const sent: string[] = [];
    const call = async (id: string, action: string, payload: unknown): Promise<unknown[]> => {
      chatter();
      sent.push(JSON.stringify([2, id, action, payload]));
      const answer = await boardCall(device, id, action, payload);
      chatter();
      return answer;
    };
    expect((await call('1', 'BootNotification', { chargePointVendor: 'flashCharge', chargePointModel: 'FC-22' }))[2]).toMatchObject({ status: 'Accepted' });
    await call('2', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    expect((await call('3', 'Authorize', { idTag: 'TAG-1' }))[2]).toMatchObject({ idTagInfo: { status: 'Accepted' } });
    const start = await call('4', 'StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 1000, timestamp: new Date().toISOString() });
    const transactionId = (start[2] as { transactionId: number }).transactionId;
    expect(transactionId).toBeGreaterThan(0);
    await call('5', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    for (let i = 0; i < 3; i++) await call(`6${i}`, 'MeterValues', { connectorId: 1, transactionId, meterValue: sampled(1000 + 500 * i) });

    // SteVe's own calls reach the board; one is far longer than the board's 256-byte lines (chunked, windowed).
    const big = 'x'.repeat(3000);
    const dtCall = h.steve.call('FC-SER-1', 'DataTransfer', { vendorId: 'fc', messageId: 'Blob', data: big });
    const dt = await device.waitForCall('DataTransfer');
    expect(dt.payload.data).toBe(big);
    device.command(`send ${JSON.stringify([3, dt.id, { status: 'Accepted' }])}`);
    expect((await dtCall)[2]).toEqual({ status: 'Accepted' });
    const stopCall = h.steve.call('FC-SER-1', 'RemoteStopTransaction', { transactionId });
    const rs = await device.waitForCall('RemoteStopTransaction');
    device.command(`send ${JSON.stringify([3, rs.id, { status: 'Accepted' }])}`);
    expect((await stopCall)[2]).toEqual({ status: 'Accepted' });

    await call('7', 'StopTransaction', { transactionId, meterStop: 2500, timestamp: new Date().toISOString(), reason: 'Remote' });
    await call('8', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
    // The stream keeps its order: once this answer is back, every debug line before it has reached the gateway.
    sent.push(JSON.stringify([2, '9', 'Heartbeat', {}]));
    await boardCall(device, '9', 'Heartbeat', {});

    // SteVe saw exactly the board's calls, byte for byte and in order.
    const calls = h.steve.received.filter((f) => f.chargeBoxId === 'FC-SER-1' && f.frame[0] === 2).map((f) => f.raw);
    expect(calls).toEqual(sent);
    const station = h.gateway.relay.stations().find((s) => s.chargeBoxId === 'FC-SER-1');
    expect(station).toMatchObject({ linkKind: 'serial', remoteAddress: expect.stringContaining('serial:') as string, counters: { refused: 0 } });
    expect(h.links.find((l) => l.kind === 'connected')).toMatchObject({ chargeBoxId: 'FC-SER-1', linkKind: 'serial' });

    // Every debug line, in order: on disk (REST), and on the bus with stable ids.
    await h.serial.flushDeviceLogs();
    const res = await fetch(`${h.gateway.httpUrl}/api/stations/FC-SER-1/device-log?limit=5000`, { headers: h.gateway.authHeader() });
    const body = (await res.json()) as { lines: { n: number; line: string }[] };
    expect(body.lines.map((l) => l.line)).toEqual(logLines);
    expect(body.lines.map((l) => l.n)).toEqual(logLines.map((_, i) => i + 1));
    expect(h.deviceLogEvents.map((e) => e.data.line)).toEqual(logLines);
    expect(h.deviceLogEvents[0]).toMatchObject({ id: 'serial-log:FC-SER-1:1', source: 'station', chargeBoxId: 'FC-SER-1' });
    expect(await h.metric('chargebridge_serial_corrupt_frames_total')).toBe(0);
    expect(await h.metric('chargebridge_serial_device_log_lines_total')).toBe(logLines.length);
    const after = await fetch(`${h.gateway.httpUrl}/api/stations/FC-SER-1/device-log?after=${logLines.length - 2}`, { headers: h.gateway.authHeader() });
    expect(((await after.json()) as { lines: unknown[] }).lines).toHaveLength(2);
  });

  it('counts and drops injected garbage and bit flips; nothing corrupt reaches SteVe', async () => {
    h = await startHarness([{ name: 'b', chargeBoxId: 'FC-SER-2' }]);
    const [{ device }] = h.boards as [Harness['boards'][number]];
    await device.waitFor((e) => e.ev === 'up');
    await answerGetConfiguration(device);
    await boardCall(device, 'boot', 'BootNotification', { chargePointVendor: 'flashCharge', chargePointModel: 'FC-22' });

    const rand = rng(11);
    let flips = 0;
    for (let i = 0; i < 20; i++) {
      // Baud-mismatch style garbage without a mark byte: log text, never a frame.
      device.command(`raw ${Buffer.from(Array.from({ length: 40 }, () => 0x80 + Math.floor(rand() * 0x7f))).toString('hex')}0a`);
      const bad = JSON.stringify([2, `bad-${i}`, 'Heartbeat', {}]);
      const line = encodeMessage(messageBytes(bad) as Buffer, 65536, 0, PROTOCOL_VERSION)[0] as Buffer;
      // A bit inside the frame after the mark byte; the flipped byte stays printable so the line keeps its shape.
      let bit: number;
      do bit = 8 + Math.floor(rand() * (line.length - 2) * 8);
      while (((line[bit >> 3] as number) ^ (1 << (bit & 7))) < 0x20 || ((line[bit >> 3] as number) ^ (1 << (bit & 7))) > 0x7e);
      device.command(`flip ${bit} ${bad}`);
      flips++;
      expect((await boardCall(device, `ok-${i}`, 'Heartbeat', {}))[0]).toBe(3);
    }
    // A frame cut short by a lost tail, followed directly by a good one.
    device.command(`raw ${Buffer.from('\x1eM22 [2,"cut","Heartbeat"').toString('hex')}`);
    expect((await boardCall(device, 'after-cut', 'Heartbeat', {}))[0]).toBe(3);

    const ids = h.steve.received.filter((f) => f.chargeBoxId === 'FC-SER-2').map((f) => String(f.frame[1]));
    expect(ids.filter((id) => id.startsWith('bad-') || id === 'cut')).toEqual([]);
    expect(ids.filter((id) => id.startsWith('ok-'))).toHaveLength(20);
    expect(ids).toContain('after-cut');
    expect(await h.metric('chargebridge_serial_corrupt_frames_total')).toBe(flips + 1);
    // The relay observed each as refused (message log), and never forwarded it.
    expect(h.gateway.relay.stations()[0]?.counters.refused).toBe(flips + 1);
    await h.serial.flushDeviceLogs();
    const log = await (await fetch(`${h.gateway.httpUrl}/api/stations/FC-SER-2/device-log?limit=100`, { headers: h.gateway.authHeader() })).json() as { lines: unknown[] };
    expect(log.lines).toHaveLength(20);
  });

  it('unplug mid-transaction closes the upstream; replug reconnects and the queued stop reaches SteVe', async () => {
    h = await startHarness([{ name: 'c', chargeBoxId: 'FC-SER-3' }]);
    const [{ device, pty }] = h.boards as [Harness['boards'][number]];
    await device.waitFor((e) => e.ev === 'up');
    await answerGetConfiguration(device);
    await boardCall(device, '1', 'BootNotification', { chargePointVendor: 'flashCharge', chargePointModel: 'FC-22' });
    const start = await boardCall(device, '2', 'StartTransaction', { connectorId: 1, idTag: 'TAG-9', meterStart: 0, timestamp: new Date().toISOString() });
    const transactionId = (start[2] as { transactionId: number }).transactionId;

    await pty.stop(); // the cable is pulled
    await device.waitFor((e) => e.ev === 'closed');
    await device.waitFor((e) => e.ev === 'down');
    await vi_waitFor(() => h!.steve.closes.some((c) => c.chargeBoxId === 'FC-SER-3'));
    expect(h.links.find((l) => l.kind === 'disconnected')).toMatchObject({ chargeBoxId: 'FC-SER-3', linkKind: 'serial' });
    expect(h.gateway.relay.stations()).toEqual([]);
    // The firmware keeps charging offline and queues what it would have sent.
    const mark = device.events.length;
    device.command(`send ${JSON.stringify([2, '3', 'MeterValues', { connectorId: 1, transactionId, meterValue: sampled(4200) }])}`);
    device.command(`send ${JSON.stringify([2, '4', 'StopTransaction', { transactionId, meterStop: 5000, timestamp: new Date().toISOString(), reason: 'EVDisconnected' }])}`);

    await pty.start(); // plugged back in
    await device.waitFor((e) => e.ev === 'up', 10_000, mark);
    const stop = await h.steve.waitFor((f) => f.chargeBoxId === 'FC-SER-3' && f.frame[2] === 'StopTransaction', 10_000);
    expect((stop.frame[3] as { transactionId: number }).transactionId).toBe(transactionId);
    await device.waitFor((e) => e.ev === 'recv' && (JSON.parse(e.text as string) as unknown[])[1] === '4', 10_000, mark);
    const kinds = h.links.filter((l) => l.chargeBoxId === 'FC-SER-3' && (l.kind === 'connected' || l.kind === 'disconnected')).map((l) => l.kind);
    expect(kinds).toEqual(['connected', 'disconnected', 'connected']);
    expect(h.serial.ports()[0]).toMatchObject({ linkUp: true, chargeBoxId: 'FC-SER-3', state: 'open', opens: 2 });
  });

  it('runs two boards at once, each with its own upstream, even with identical message ids', async () => {
    h = await startHarness([
      { name: 'd', chargeBoxId: 'FC-SER-4' },
      { name: 'e', chargeBoxId: 'generic-board', configuredId: 'FC-SER-5' },
    ]);
    const [b4, b5] = h.boards as [Harness['boards'][number], Harness['boards'][number]];
    await Promise.all([b4.device.waitFor((e) => e.ev === 'up'), b5.device.waitFor((e) => e.ev === 'up')]);
    await Promise.all([answerGetConfiguration(b4.device), answerGetConfiguration(b5.device)]);
    await Promise.all([b4, b5].map(async ({ device }, k) => {
      await boardCall(device, '1', 'BootNotification', { chargePointVendor: 'flashCharge', chargePointModel: `FC-${k}` });
      for (let i = 0; i < 10; i++) await boardCall(device, String(100 + i), 'Heartbeat', {});
    }));
    for (const [id, model] of [['FC-SER-4', 'FC-0'], ['FC-SER-5', 'FC-1']] as const) {
      const frames = h.steve.received.filter((f) => f.chargeBoxId === id && f.frame[0] === 2);
      expect(frames).toHaveLength(11);
      expect((frames[0]?.frame[3] as { chargePointModel: string }).chargePointModel).toBe(model);
    }
    expect(h.gateway.relay.stations().map((s) => s.chargeBoxId).sort()).toEqual(['FC-SER-4', 'FC-SER-5']);
    expect([...h.steve.sockets.keys()].sort()).toEqual(['FC-SER-4', 'FC-SER-5']);
  });

  it('keeps the bytes in flight within the board window while the firmware loop is stalled', async () => {
    h = await startHarness([{ name: 'f', chargeBoxId: 'FC-SER-6', device: { rx: 1024, mtu: 256 } }], { SERIAL_KEEPALIVE_MS: '1000' });
    const [{ device }] = h.boards as [Harness['boards'][number]];
    await device.waitFor((e) => e.ev === 'up');
    await answerGetConfiguration(device);
    device.signal('SIGSTOP'); // the firmware is busy: its UART buffer fills, nothing is acknowledged
    const big = 'y'.repeat(6000);
    const pending = h.steve.call('FC-SER-6', 'DataTransfer', { vendorId: 'fc', data: big });
    await new Promise((r) => setTimeout(r, 1500));
    device.signal('SIGCONT');
    const dt = await device.waitForCall('DataTransfer');
    expect(dt.payload.data).toBe(big);
    device.command(`send ${JSON.stringify([3, dt.id, { status: 'Accepted' }])}`);
    await pending;
    const mark = device.events.length;
    device.command('stats');
    const stats = await device.waitFor((e) => e.ev === 'stats', 5000, mark);
    // Never more unread bytes than the window (a keepalive line of slack), against 6 KB without flow control.
    expect(stats.maxUnread as number).toBeLessThanOrEqual(1024 + 16);
    expect(stats.maxUnread as number).toBeGreaterThan(512);
    expect(stats.corrupt).toBe(0);
    expect(await h.metric('chargebridge_serial_flow_stalls_total')).toBe(0);
  });

  it('drops a silent board after three keepalive periods and relinks it when its loop runs again', async () => {
    h = await startHarness([{ name: 'g', chargeBoxId: 'FC-SER-7' }]);
    const [{ device }] = h.boards as [Harness['boards'][number]];
    await device.waitFor((e) => e.ev === 'up');
    await answerGetConfiguration(device);
    device.signal('SIGSTOP');
    await vi_waitFor(() => h!.links.some((l) => l.kind === 'disconnected' && l.chargeBoxId === 'FC-SER-7'), 5000);
    const down = h.links.find((l) => l.kind === 'disconnected');
    expect(down).toMatchObject({ linkKind: 'serial', reason: expect.stringContaining('keepalive timeout') as string });
    await vi_waitFor(() => h!.steve.closes.some((c) => c.chargeBoxId === 'FC-SER-7'));
    const mark = device.events.length;
    device.signal('SIGCONT');
    // The board hears "down" (or notices the silence itself) and says hello again.
    await device.waitFor((e) => e.ev === 'up', 10_000, mark);
    await answerGetConfiguration(device);
    expect((await boardCall(device, 'hb', 'Heartbeat', {}))[0]).toBe(3);
  });

  it('a new hello on a linked port is a board restart: the old link ends, a new one starts', async () => {
    h = await startHarness([{ name: 'i', chargeBoxId: 'FC-SER-8' }]);
    const [{ device }] = h.boards as [Harness['boards'][number]];
    await device.waitFor((e) => e.ev === 'up');
    await answerGetConfiguration(device);
    device.command(`raw ${encodeControl('H', ['v=1', 'id=FC-SER-8', 'fw=0.1.0', 'rx=1024', 'mtu=512', 'max=8192']).toString('hex')}`);
    await vi_waitFor(() => h!.links.filter((l) => l.kind === 'connected').length === 2);
    expect(h.links.filter((l) => l.chargeBoxId === 'FC-SER-8').map((l) => l.kind).filter((k) => k !== 'upstream')).toEqual(['connected', 'disconnected', 'connected']);
    expect(h.links.find((l) => l.kind === 'disconnected')).toMatchObject({ reason: expect.stringContaining('restarted') as string });
    await answerGetConfiguration(device);
    expect((await boardCall(device, 'hb', 'Heartbeat', {}))[0]).toBe(3);
    // A hello without a chargeBoxId links nothing and leaves the working link alone.
    device.command(`raw ${encodeControl('H', ['v=1', 'fw=0.1.0']).toString('hex')}`);
    expect((await boardCall(device, 'hb2', 'Heartbeat', {}))[0]).toBe(3);
    expect(h.links.filter((l) => l.kind === 'connected')).toHaveLength(2);
  });

  // Versions (docs/serial-protocol.md §7): both sides use min(board, gateway). A side that knows only version 1
  // drops version 2 lines as corrupt, so a wrong choice shows as lost messages and corrupt counts.
  const versionCases = [
    { name: 'a v2 gateway with a v1 board (old firmware)', board: 1, gatewayEnv: {}, agreed: 1 },
    { name: 'a v2 board with a gateway pinned to v1 (SERIAL_PROTOCOL_VERSION=1)', board: PROTOCOL_VERSION, gatewayEnv: { SERIAL_PROTOCOL_VERSION: '1' }, agreed: 1 },
    { name: 'a v2 board with a v2 gateway', board: PROTOCOL_VERSION, gatewayEnv: {}, agreed: 2 },
  ] as const;
  it.each(versionCases)('$name agree on v$agreed and carry messages both ways, chunks included', async ({ board, gatewayEnv, agreed }) => {
    h = await startHarness([{ name: `v${board}`, chargeBoxId: `FC-VER-${board}`, device: { proto: board, mtu: 256, rx: 512 } }], gatewayEnv);
    const [{ device }] = h.boards as [Harness['boards'][number]];
    const chargeBoxId = `FC-VER-${board}`;
    await device.waitFor((e) => e.ev === 'up');
    expect(h.serial.ports()[0]).toMatchObject({ linkUp: true, chargeBoxId, protocolVersion: agreed });
    await answerGetConfiguration(device);
    expect((await boardCall(device, '1', 'BootNotification', { chargePointVendor: 'flashCharge', chargePointModel: 'FC-22' }))[2]).toMatchObject({ status: 'Accepted' });
    // Longer than the board's 256-byte lines: the gateway sends it in C chunks. The answer is one long M line.
    const big = 'v'.repeat(1500);
    const pending = h.steve.call(chargeBoxId, 'DataTransfer', { vendorId: 'fc', data: big });
    const dt = await device.waitForCall('DataTransfer');
    expect(dt.payload.data).toBe(big);
    device.command(`send ${JSON.stringify([3, dt.id, { status: 'Accepted', data: 'w'.repeat(2000) }])}`);
    expect((await pending)[2]).toEqual({ status: 'Accepted', data: 'w'.repeat(2000) });
    const mark = device.events.length;
    device.command('stats');
    const stats = await device.waitFor((e) => e.ev === 'stats', 5000, mark);
    expect(stats).toMatchObject({ version: agreed, corrupt: 0 });
    expect(await h.metric('chargebridge_serial_corrupt_frames_total')).toBe(0);
  });

  it('closes the link with 1009 when SteVe sends more than the board can hold, and lets the board rejoin later', async () => {
    h = await startHarness([{ name: 'j', chargeBoxId: 'FC-SER-9', device: { max: 2048 } }], { SERIAL_REJOIN_DELAY_MS: '300' });
    const [{ device }] = h.boards as [Harness['boards'][number]];
    await device.waitFor((e) => e.ev === 'up');
    await answerGetConfiguration(device);
    const mark = device.events.length;
    h.steve.call('FC-SER-9', 'DataTransfer', { vendorId: 'fc', data: 'z'.repeat(4000) }, 2000).catch(() => undefined);
    await vi_waitFor(() => h!.links.some((l) => l.kind === 'disconnected'));
    expect(h.links.find((l) => l.kind === 'disconnected')).toMatchObject({ code: 1009, reason: expect.stringContaining('2048') as string });
    expect(device.received().some((f) => f[2] === 'DataTransfer')).toBe(false);
    expect(await h.metric('chargebridge_serial_dropped_messages_total', { reason: 'too-big' })).toBe(1);
    await device.waitFor((e) => e.ev === 'down', 5000, mark);
    await device.waitFor((e) => e.ev === 'up', 10_000, mark);
  });
});

async function vi_waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
