// The large-frame decoder's thread (frame-decoder.ts): UTF-8 → text → parseFrame, off the relay's event loop. A
// 768 KiB frame of non-ASCII text took 3.6 ms to decode and 0.55 ms to parse (bench/fuzz/large-frame-costs.ts);
// here that delays no other station.
import { parentPort } from 'node:worker_threads';
import { parseFrame } from '../ocpp/frames.js';
import { headView, type DecodeReply, type DecodeRequest } from './frame-decoder.js';

const port = parentPort;
if (!port) throw new Error('frame-decoder-worker.ts runs as the frame decoder thread only');
port.on('message', ({ id, bytes, head }: DecodeRequest) => {
  const text = Buffer.from(bytes).toString('utf8');
  const parsed = parseFrame(text);
  // The relay forwards the frame's own bytes, or the embedded central system answers from a compact payload: its
  // observers need only the first part (a copy of the whole text back to the relay's thread cost it milliseconds of
  // fresh memory per megabyte).
  const reply: DecodeReply = head === undefined ? { id, text, parsed } : { id, ...headView(text, parsed, head, bytes.byteLength) };
  port.postMessage(reply);
});
