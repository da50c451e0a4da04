// What masking costs the event loop per MiB, with `bufferutil` (ws's native masking, a dependency) and without
// (ws's JavaScript loop, what the gateway ran before; forced here by WS_NO_BUFFER_UTIL in a child process).
// Every frame a station sends is masked (the gateway unmasks it) and every frame to SteVe is masked by the gateway.
// Usage: npx tsx bench/relay/mask-cost.ts
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

if (process.argv[2] === '--child') {
  const util = require(path.join(path.dirname(require.resolve('ws')), 'lib/buffer-util.js')) as { unmask: (b: Buffer, m: Buffer) => void };
  const frame = Buffer.alloc(1 << 20, 7);
  const mask = Buffer.from([1, 2, 3, 4]);
  for (let i = 0; i < 20; i++) util.unmask(frame, mask);
  const runs = 200;
  const t = performance.now();
  for (let i = 0; i < runs; i++) util.unmask(frame, mask);
  process.stdout.write(String((performance.now() - t) / runs));
} else {
  const run = (env: NodeJS.ProcessEnv): number =>
    Number(execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child'], { env: { ...process.env, ...env } }).toString());
  const js = run({ WS_NO_BUFFER_UTIL: '1' });
  const native = run({});
  console.log(`unmask 1 MiB: JavaScript ${js.toFixed(3)} ms, bufferutil ${native.toFixed(3)} ms (${(js / native).toFixed(0)}x less event-loop time)`);
}
