// What handing a turn's mirror frames to the mirror worker costs the relay's thread, two ways: the texts as an
// array of strings (structured clone), or joined by NUL, encoded once and transferred as one ArrayBuffer (what
// src/mirror/link-worker.ts does). Time on the posting thread only; the worker takes each batch and discards it.
// Usage: npx tsx bench/relay/mirror-batch.ts [--frames 200000] [--bytes 40]
import { Worker } from 'node:worker_threads';
import { arg } from '../lib/proc.js';

const total = arg('frames', 200_000);
const sizes = [1, 4, 32];
const frameBytes = arg('bytes', 40);
const encoder = new TextEncoder();

const worker = new Worker(`require('node:worker_threads').parentPort.on('message', () => {});`, { eval: true });
const text = (i: number): string => `[2,"${i}","Heartbeat",${JSON.stringify({ p: 'x'.repeat(Math.max(0, frameBytes - 30)) })}]`;

function run(batch: number, transfer: boolean): number {
  let ns = 0n;
  for (let done = 0; done < total; done += batch) {
    // Fresh strings per batch, as the relay's are.
    const texts: string[] = [];
    const routes: number[] = [];
    for (let i = 0; i < batch; i++) {
      texts.push(text(done + i));
      routes.push(i, 0);
    }
    const t0 = process.hrtime.bigint();
    if (transfer) {
      const bytes = encoder.encode(texts.join('\0'));
      const table = Int32Array.from(routes);
      worker.postMessage({ op: 'frames', texts: bytes, routes: table, at: 0 }, [bytes.buffer, table.buffer]);
    } else {
      worker.postMessage({ op: 'frames', texts, routes, at: 0 });
    }
    ns += process.hrtime.bigint() - t0;
  }
  return Number(ns) / total;
}

for (const batch of sizes) {
  // Warm-up, then alternate the two ways so neither always runs on a hotter JIT or a busier machine.
  run(batch, true);
  run(batch, false);
  const t = [run(batch, true), run(batch, false), run(batch, true), run(batch, false)];
  console.log(`${String(batch).padStart(3)} frames/batch, ${frameBytes} B frames: transferred buffer ${((t[0]! + t[2]!) / 2).toFixed(0)} ns/frame, string array ${((t[1]! + t[3]!) / 2).toFixed(0)} ns/frame`);
}
await worker.terminate();
