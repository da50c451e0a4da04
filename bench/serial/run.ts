// Serial link benchmark: messages/s, line-rate share and round-trip latency over a socat pty at 115200 and
// 921600 baud. A pty has no baud rate of its own (bytes move as fast as the kernel copies them), so the C++
// device stand-in paces its UART at baud/10 bytes per second (8N1) in both directions; the figures say how much
// of that line the protocol turns into OCPP payload. The gateway side is the real serial module; the relay and
// SteVe are left out so only the link is measured.
// Run: npx tsx bench/serial/run.ts
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Bus } from '../../src/events/bus.js';
import type { StationLink } from '../../src/links/link.js';
import { Decoder, encodeMessage, messageBytes } from '../../src/serial/codec.js';
import { parseSerialConfig } from '../../src/serial/config.js';
import { PROTOCOL_VERSION } from '../../src/serial/protocol.js';
import { createSerialLinks } from '../../src/serial/index.js';
import { startDevice, type Device } from '../../test/serial/support/device.js';
import { ptyPair } from '../../test/serial/support/pty.js';

const STATUS = JSON.stringify([2, '1234567', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: '2025-01-01T10:00:00.000Z' }]);
const METER = JSON.stringify([2, '1234568', 'MeterValues', {
  connectorId: 1, transactionId: 4711,
  meterValue: [{ timestamp: '2025-01-01T10:00:00.000Z', sampledValue: [
    { value: '12345.6', context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
    { value: '7200.0', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
    { value: '31.3', context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
    { value: '230.1', context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
  ] }],
}]);
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
/** Bytes of the line(s) carrying `text` in protocol `version` (the gateway's 65600-byte lines: one M line). */
const lineBytes = (text: string, version: number): number =>
  encodeMessage(messageBytes(text) as Buffer, 65_536, 0, version).reduce((n, l) => n + l.length, 0);

async function waitUntil(pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('benchmark step timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function runBaud(baud: number): Promise<string[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-bench-serial-'));
  const pty = ptyPair(dir, 'bench');
  await pty.start();
  let link: StationLink | undefined;
  const inbound: { at: number; text: string }[] = [];
  const serial = createSerialLinks({
    config: parseSerialConfig({ SERIAL_PORTS: `${pty.gateway}@${baud}`, SERIAL_KEEPALIVE_MS: '2000' }),
    attach: (l) => {
      link = l;
      l.attach({ message: (text) => inbound.push({ at: performance.now(), text }), close: () => undefined });
    },
    bus: new Bus(),
    logger: pino({ level: 'silent' }),
    dataDir: dir,
    registry: new Registry(),
  });
  await serial.start();
  // The board's UART buffer: 2048 bytes, 1792 announced as the window (as in the example sketch).
  const device: Device = startDevice(pty.device, 'FC-BENCH', { baud, rx: 1792, mtu: 1024, max: 8192 });
  const rows: string[] = [];
  try {
    await device.waitFor((e) => e.ev === 'up', 10_000);
    await waitUntil(() => link !== undefined, 5000);
    // The version the board and the gateway agreed on: min(board, gateway), both the newest here.
    const version = serial.ports()[0]?.protocolVersion ?? 0;
    if (version !== PROTOCOL_VERSION) throw new Error(`link agreed on version ${version}, expected ${PROTOCOL_VERSION}`);
    const lineRate = baud / 10;
    const seconds = baud <= 115_200 ? 6 : 4;

    for (const [name, msg] of [['StatusNotification', STATUS], ['MeterValues', METER]] as const) {
      const size = Buffer.byteLength(msg);
      const count = Math.ceil((lineRate * seconds) / lineBytes(msg, version));
      // board → gateway: the board writes back to back at line rate.
      inbound.length = 0;
      device.command(`burst ${count} ${msg}`);
      await waitUntil(() => inbound.length >= count, 120_000);
      const first = inbound[0] as { at: number };
      const last = inbound[count - 1] as { at: number };
      // The first message's own wire time is not inside first→last: count the remaining n−1.
      const up = ((count - 1) * size) / ((last.at - first.at) / 1000);
      // gateway → board: the gateway sends everything at once; the credit window keeps the board's buffer safe.
      const mark = device.events.length;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) link!.send(msg);
      await device.waitFor((e) => e.ev === 'recv' && device.events.indexOf(e) >= mark + count - 1, 120_000, mark + count - 1);
      const down = (count * size) / ((performance.now() - t0) / 1000);
      const ceiling = size / lineBytes(msg, version);
      const ceilingV1 = size / lineBytes(msg, 1);
      rows.push(
        `| ${baud} | ${name} (${size} B), protocol v${version} | board→gw ${(up / size).toFixed(1)} msg/s, ${pct(up / lineRate)} | gw→board ${(down / size).toFixed(1)} msg/s, ${pct(down / lineRate)} | framing ceiling ${pct(ceiling)} (v1: ${pct(ceilingV1)}) | n=${count} |`,
      );
    }

    // Round trip: gateway CALL → board answers at once (both frames cross the paced line).
    device.command('autoreply on');
    const rtts: number[] = [];
    const call = JSON.stringify([2, 'rtt-0000', 'Heartbeat', {}]);
    for (let i = 0; i < 100; i++) {
      const id = `rtt-${String(i).padStart(4, '0')}`;
      const before = inbound.length;
      const t0 = performance.now();
      link!.send(call.replace('rtt-0000', id));
      await waitUntil(() => inbound.length > before, 5000);
      rtts.push(performance.now() - t0);
    }
    rtts.sort((a, b) => a - b);
    const wireMs = ((lineBytes(call, version) + lineBytes(`[3,"rtt-0000",{}]`, version)) / lineRate) * 1000;
    rows.push(
      `| ${baud} | Heartbeat round trip | p50 ${(rtts[49] as number).toFixed(2)} ms | p99 ${(rtts[98] as number).toFixed(2)} ms | wire time of both frames ${wireMs.toFixed(2)} ms | n=100 |`,
    );
    const stats = device.events.length;
    device.command('stats');
    const s = await device.waitFor((e) => e.ev === 'stats', 5000, stats);
    rows.push(`| ${baud} | board stats | corrupt ${String(s.corrupt)} | most unread bytes in the board's buffer ${String(s.maxUnread)} (window 1792) | | |`);
  } finally {
    await device.stop();
    await serial.stop();
    await pty.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function codecOnly(): string {
  const msg = messageBytes(METER) as Buffer;
  const n = 50_000;
  let decoded = 0;
  const d = new Decoder({ maxLine: 65_600, maxMessage: 65_536, version: PROTOCOL_VERSION }, (e) => {
    if (e.type === 'message') decoded++;
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) for (const line of encodeMessage(msg, 65_600, i, PROTOCOL_VERSION)) d.push(line);
  const s = (performance.now() - t0) / 1000;
  if (decoded !== n) throw new Error('codec lost messages');
  return `| - | codec only, in process (MeterValues), protocol v${PROTOCOL_VERSION} | ${(n / s).toFixed(0)} msg/s encode+decode | ${((n * msg.length) / s / 1e6).toFixed(1)} MB/s payload | ${(((n * msg.length) / s) / (921_600 / 10)).toFixed(0)}× a 921600 line | n=${n} |`;
}

console.log('| baud | what | board → gateway | gateway → board | note | |');
console.log('|---|---|---|---|---|---|');
console.log(codecOnly());
for (const baud of [115_200, 921_600]) for (const row of await runBaud(baud)) console.log(row);
console.log('\nShare = OCPP payload bytes per second / (baud / 10), 8N1. A pty has no real baud limit: the device stand-in paces');
console.log('both directions at the baud rate, so these figures measure protocol overhead and flow control, not a UART.');
