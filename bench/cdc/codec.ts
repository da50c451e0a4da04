// How long a batch of catch-up events takes to cross from the reader thread to the main thread, per 1,000,000
// meter rows (250 meterValues events of 4 sampled values per 1000-row transaction): plain JSON against the batch
// codec (src/cdc/batch-codec.ts), encoding (reader thread) and decoding (main thread) timed apart.
//   npx tsx bench/cdc/codec.ts
import { performance } from 'node:perf_hooks';
import { decodeBatch, encodeBatch } from '../../src/cdc/batch-codec.js';
import type { EventInput } from '../../src/events/catalogue.js';

const MEASURANDS = ['Energy.Active.Import.Register', 'SoC', 'Voltage', 'Current.Import'];
const batch: EventInput[] = Array.from({ length: 250 }, (_, i) => ({
  id: `steve:0-1-${1000 + i}:${i * 4}`,
  type: 'meterValues',
  chargeBoxId: 'BENCH',
  connectorId: 1,
  timestamp: new Date(Date.UTC(2026, 1, 1) + i * 1000).toISOString(),
  receivedAt: '2026-12-07T00:00:00.000Z',
  source: 'steve',
  data: { sampledValues: MEASURANDS.map((measurand, k) => ({ value: String(i * 4 + k), measurand, unit: 'Wh', context: 'Sample.Periodic' })) },
}));
const utf8 = new TextEncoder();
const text = new TextDecoder();
const ways = {
  json: { enc: (b: EventInput[]) => utf8.encode(JSON.stringify(b)), dec: (u: Uint8Array) => JSON.parse(text.decode(u)) as EventInput[] },
  codec: { enc: (b: EventInput[]) => utf8.encode(encodeBatch(b)), dec: (u: Uint8Array) => decodeBatch(text.decode(u)) },
};
for (let round = 0; round < 3; round++) {
  for (const [name, w] of Object.entries(ways)) {
    for (let i = 0; i < 200; i++) w.dec(w.enc(batch));
    let bytes = new Uint8Array();
    let t = performance.now();
    for (let i = 0; i < 1000; i++) bytes = w.enc(batch);
    const enc = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < 1000; i++) w.dec(bytes);
    const dec = performance.now() - t;
    console.log(`round ${round + 1} ${name.padEnd(5)}: encode ${enc.toFixed(0)} ms, decode ${dec.toFixed(0)} ms per 1,000,000 rows; ${bytes.length} bytes per 1000-row transaction`);
  }
}
