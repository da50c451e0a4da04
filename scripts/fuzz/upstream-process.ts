// The recording upstream in a process of its own, as SteVe would be: judging large relayed frames must not land
// in the well-behaved stations' round trips through the fuzzer's busy event loop. Driven by upstream-client.ts.
import { LoopDelayMeter, type LoopDelay } from './loop-delay.js';
import { startRecordingUpstream } from './upstream.js';
import { Violations } from './violations.js';

export type UpstreamRequest = { readonly kind: 'startCalls'; readonly intervalMs: number; readonly prefix: string } | { readonly kind: 'report' };
export type UpstreamReply =
  | { readonly kind: 'listening'; readonly url: string }
  | { readonly kind: 'report'; readonly received: number; readonly answered: number; readonly violations: ReturnType<Violations['entries']>; readonly loop: LoopDelay };

const send = (m: UpstreamReply): void => void process.send?.(m);
const violations = new Violations();
// From start to report: its own delays are in every relayed round trip (it is idle but for them in the baseline).
const loopDelay = new LoopDelayMeter();
const upstream = await startRecordingUpstream(violations);
process.on('disconnect', () => void upstream.close().finally(() => process.exit(0)));
process.on('message', (m: UpstreamRequest) => {
  if (m.kind === 'startCalls') upstream.startCalls(m.intervalMs, (id) => id.startsWith(m.prefix));
  else void upstream.settled().then(() => send({ kind: 'report', received: upstream.received(), answered: upstream.answered(), violations: violations.entries(), loop: loopDelay.take() }));
});
send({ kind: 'listening', url: upstream.url });
