// What a message-log line costs to encode and write into the batch buffer, per entry: the store's encoder
// (encodeLine + encodeLines) against the floor of one JSON.stringify of the entry written into a buffer (the encoder
// before 2026-12-07's twelfth session), in time and bytes allocated, same process, same entries.
// Usage: npx tsx bench/log/line-encode.ts [day-file.jsonl]   (without a file: 1,024 heartbeat entries; with one,
// e.g. a copy of a fuzz run's DATA_DIR/messages day file, its entries as logged)
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { LogEntry } from '../../src/events/observations.js';
import { encodeLine, fromLine, toLogEntry } from '../../src/log/entry.js';
import { encodeLines } from '../../src/log/store.js';

function heartbeats(): LogEntry[] {
  return Array.from({ length: 1024 }, (_, i) =>
    toLogEntry(
      {
        atUs: Date.now() * 1000, chargeBoxId: `CP${i}`, linkKind: 'ws', leg: 'station', direction: 'in', origin: 'station', disposition: 'forwarded',
        raw: `[2,"${i}","Heartbeat",{}]`, messageType: 'CALL', action: 'Heartbeat', messageId: String(i), forwardUs: 120, frame: { type: 2, id: String(i), action: 'Heartbeat', payload: {} },
      },
      i + 1,
    ),
  );
}

function fromFile(file: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      out.push(fromLine(line));
    } catch {
      // a torn or empty line
    }
  }
  return out;
}

const BATCH = 1024;
const file = process.argv[2];
const entries = file === undefined ? heartbeats() : fromFile(file);
const batches: LogEntry[][] = [];
for (let i = 0; i < entries.length; i += BATCH) batches.push(entries.slice(i, i + BATCH));

/** The floor: the whole entry through JSON.stringify, each line then written into one buffer. */
function stringified(batch: readonly LogEntry[]): number {
  const lines = batch.map((e) => JSON.stringify(e.payload === undefined ? e : { ...e, payload: undefined }));
  let total = 0;
  for (const l of lines) total += Buffer.byteLength(l) + 1;
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (const l of lines) {
    at += buf.write(l, at);
    buf[at++] = 0x0a;
  }
  return at;
}

const current = (batch: readonly LogEntry[]): number => encodeLines(batch.map(encodeLine)).buf.length;

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');

/** Time without the heap profiler (its sampling slows allocation), then bytes allocated with it, per entry. */
async function measure(fn: (batch: readonly LogEntry[]) => number, repeat: number): Promise<{ us: number; bytes: number }> {
  const n = entries.length * repeat;
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) for (const b of batches) fn(b);
  const us = ((performance.now() - t0) * 1000) / n;
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  for (let r = 0; r < repeat; r++) for (const b of batches) fn(b);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let bytes = 0;
  const walk = (node: { selfSize: number; children: unknown[] }): void => {
    bytes += node.selfSize;
    for (const c of node.children) walk(c as { selfSize: number; children: unknown[] });
  };
  walk(profile.head as unknown as { selfSize: number; children: unknown[] });
  return { us, bytes: bytes / n };
}

const repeat = Math.max(1, Math.round(200_000 / entries.length));
console.log(`${entries.length} entries (${file ?? 'heartbeats'}), ${repeat} passes, each in batches of ${BATCH}`);
for (let round = 1; round <= 3; round++) {
  const floor = await measure(stringified, repeat);
  const ours = await measure(current, repeat);
  console.log(
    `round ${round}: JSON.stringify (floor) ${floor.us.toFixed(2)} µs, ${Math.round(floor.bytes)} B allocated per entry; ` +
      `the store's encoder ${ours.us.toFixed(2)} µs (${(ours.us / floor.us).toFixed(2)}x), ${Math.round(ours.bytes)} B (${(ours.bytes / floor.bytes).toFixed(2)}x)`,
  );
}
session.disconnect();
