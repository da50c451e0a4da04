// Cost of the per-frame safety checks on the relay's hot path: the nesting scan parseFrame runs before JSON.parse,
// next to JSON.parse itself, on a typical MeterValues frame and on large ones; and schema validation of large
// payloads (what observers would spend without the size bound).
// Usage: npx tsx bench/relay/frame-checks.ts
import { MAX_FRAME_DEPTH, parseFrame } from '../../src/ocpp/frames.js';
import { validate } from '../../src/ocpp/validate.js';
import { nestingExceeds } from '../../src/ocpp/wire-text.js';

function perOp(label: string, fn: () => unknown, minMs = 400): number {
  for (let i = 0; i < 1000; i++) fn(); // warm up the JIT
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = performance.now() - t0;
  }
  const ns = (elapsed * 1e6) / n;
  console.log(`${label.padEnd(58)} ${ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`}`);
  return ns;
}

const meterValues = JSON.stringify([2, '7f3c1a52-7b7e-4d4f-9c1e-2b1f0e9d8a11', 'MeterValues', {
  connectorId: 1, transactionId: 4711,
  meterValue: [{ timestamp: '2026-12-06T18:00:00.000Z', sampledValue: [
    { value: '12345.6', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
    { value: '16.02', measurand: 'Current.Import', unit: 'A', phase: 'L1' },
    { value: '229.8', measurand: 'Voltage', unit: 'V' },
  ] }],
}]);
console.log(`typical MeterValues frame: ${meterValues.length} bytes`);
const scan = perOp('nestingExceeds (the added scan)', () => nestingExceeds(meterValues, MAX_FRAME_DEPTH));
const parse = perOp('JSON.parse alone', () => JSON.parse(meterValues));
perOp('parseFrame (scan + JSON.parse + shape checks)', () => parseFrame(meterValues));
console.log(`scan / JSON.parse: ${((scan / parse) * 100).toFixed(0)} %`);

const sampled = Array.from({ length: 20_000 }, (_, i) => ({ value: String(i), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }));
const bigMeter = JSON.stringify([2, 'big', 'MeterValues', { connectorId: 1, meterValue: [{ timestamp: '2026-12-06T18:00:00.000Z', sampledValue: sampled }] }]);
const bigString = JSON.stringify([2, 'str', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(8 * 1024 * 1024 - 100) }]);
for (const [label, text] of [[`MeterValues of ${(bigMeter.length / 1024 / 1024).toFixed(1)} MiB`, bigMeter], ['DataTransfer, 8 MiB string', bigString]] as const) {
  perOp(`nestingExceeds, ${label}`, () => nestingExceeds(text, MAX_FRAME_DEPTH), 1000);
  perOp(`JSON.parse, ${label}`, () => JSON.parse(text), 1000);
  const frame = parseFrame(text);
  if (!frame.ok || frame.frame.type !== 2) throw new Error('bench frame did not parse');
  const { action, payload } = frame.frame;
  perOp(`validate (ajv), ${label}`, () => validate(action, 'req', payload), 1000);
}
const brackets = '['.repeat(8 * 1024 * 1024);
perOp('nestingExceeds, 8 MiB of "[" (stops at the limit)', () => nestingExceeds(brackets, MAX_FRAME_DEPTH));
