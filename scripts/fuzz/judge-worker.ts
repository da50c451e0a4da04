// Judges large relayed frames off the recording upstream's main thread, as SteVe's container threads would: a
// station's 1 MiB DataTransfer is parsed beside, not in front of, another station's Heartbeat. Driven by
// upstream.ts, which hands each frame's bytes over (transferred, not cloned) and gets the verdict back.
import { parentPort } from 'node:worker_threads';
import { judgeFrame, sample, type FrameHead } from './ocpp-check.js';

export interface JudgeRequest {
  readonly n: number;
  readonly bytes: ArrayBuffer;
}

export type JudgeReply =
  | { readonly n: number; readonly ok: true; readonly head: FrameHead; readonly sample: string }
  | { readonly n: number; readonly ok: false; readonly problem: string; readonly sample: string };

parentPort?.on('message', ({ n, bytes }: JudgeRequest) => {
  const text = Buffer.from(bytes).toString('utf8');
  const v = judgeFrame(text);
  const reply: JudgeReply = v.ok
    ? { n, ok: true, head: v.frame.type === 2 ? { type: 2, id: v.frame.id, action: v.frame.action } : { type: v.frame.type, id: v.frame.id }, sample: sample(text) }
    : { n, ok: false, problem: v.problem, sample: sample(text) };
  parentPort?.postMessage(reply);
});
