// Preload for benchmark processes: event-loop delay (1 ms resolution) and GC pauses of the gateway process,
// printed when it receives SIGTERM. Use: BENCH_NODE_ARGS="--import ./bench/lib/loop-probe.mjs" npm run bench:relay
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

if (process.argv.some((a) => a.endsWith('main.ts'))) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const gc = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push(e.duration);
  }).observe({ entryTypes: ['gc'] });
  process.prependListener('SIGTERM', () => {
    gc.sort((a, b) => a - b);
    const q = (p) => (gc.length ? gc[Math.min(gc.length - 1, Math.ceil((p / 100) * gc.length) - 1)].toFixed(2) : 'n/a');
    const ms = (ns) => (ns / 1e6).toFixed(2);
    process.stderr.write(
      `loop-probe: event-loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} p99.9 ${ms(delay.percentile(99.9))} max ${ms(delay.max)} ms; ` +
        `GC pauses n=${gc.length} p50 ${q(50)} p99 ${q(99)} max ${q(100)} ms, total ${gc.reduce((a, b) => a + b, 0).toFixed(0)} ms\n`,
    );
  });
}
