// What one large frame costs the gateway's event loop, step by step: the Buffer → string decode of the received
// text, parseFrame, the message log's entry and line, and what decoding it in a worker thread would leave on the
// main thread (the structured clone both ways). Frames as the fuzzer's huge-string category builds them: "ÿx"
// repeated (two UTF-8 bytes for ÿ, so the string is two-byte) and the same size in ASCII.
// Usage: npx tsx bench/fuzz/large-frame-costs.ts
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { FrameObservation } from '../../src/events/observations.js';
import { encodeLine, toLogEntry } from '../../src/log/entry.js';
import { parseFrame } from '../../src/ocpp/frames.js';

function perOp(label: string, fn: () => unknown, n = 40): void {
  for (let i = 0; i < 5; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  console.log(`${label.padEnd(56)} ${((performance.now() - t0) / n).toFixed(2)} ms`);
}

/** Main-thread active time per frame when a worker decodes it: copy out, and the string's clone coming back. */
async function workerDecode(bytes: Buffer, n = 40): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (b) => parentPort.postMessage(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')));`;
  const worker = new Worker(code, { eval: true });
  const round = (): Promise<void> => new Promise((resolve) => {
    worker.once('message', () => resolve());
    worker.postMessage(bytes);
  });
  for (let i = 0; i < 5; i++) await round();
  const before = performance.eventLoopUtilization();
  let sent = 0;
  let got = 0;
  await new Promise<void>((resolve) => {
    worker.on('message', () => {
      if (++got === n) resolve();
    });
    for (; sent < n; sent++) worker.postMessage(bytes);
  });
  const active = performance.eventLoopUtilization(before).active;
  await worker.terminate();
  return active / n;
}

const size = 1024 * 1024 - 512;
const shapes: ReadonlyArray<readonly [string, string]> = [
  ['DataTransfer, "ÿx" data', JSON.stringify([2, 'f1', 'DataTransfer', { vendorId: 'fuzz', data: 'ÿx'.repeat(size >> 2) }])],
  ['DataTransfer, ASCII data', JSON.stringify([2, 'f1', 'DataTransfer', { vendorId: 'fuzz', data: 'ab'.repeat(Math.floor((size * 3) / 8)) }])],
];
for (const [label, text] of shapes) {
  const bytes = Buffer.from(text);
  console.log(`${label}: ${bytes.length} bytes, ${text.length} characters`);
  perOp('  Buffer → string (ws-link, every received text frame)', () => bytes.toString('utf8'));
  perOp('  parseFrame (relay; the embedded CS parses again)', () => parseFrame(text));
  const parsed = parseFrame(text);
  if (!parsed.ok) throw new Error('bench frame did not parse');
  const obs: FrameObservation = {
    atUs: Date.now() * 1000, chargeBoxId: 'CP1', linkKind: 'ws', leg: 'station', direction: 'in', origin: 'station',
    disposition: 'forwarded', raw: text, frame: parsed.frame, messageType: 'CALL', action: 'DataTransfer', messageId: 'f1',
  };
  perOp('  toLogEntry + encodeLine (message log, one turn)', () => encodeLine(toLogEntry(obs, 1)));
  console.log(`${'  decoded in a worker: main-thread time left'.padEnd(56)} ${(await workerDecode(bytes)).toFixed(2)} ms`);
}
