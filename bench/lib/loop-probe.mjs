// Preload for benchmark processes: event-loop delay (1 ms resolution) and GC pauses of the gateway process,
// printed when it receives SIGTERM. Use: BENCH_NODE_ARGS="--import ./bench/lib/loop-probe.mjs" npm run bench:relay
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

const GC_KINDS = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };

if (process.argv.some((a) => /main\.[jt]s$/.test(a))) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const gc = [];
  const byKind = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { gc.push(e.duration); const k = e.detail?.kind ?? 0; (byKind[k] ??= []).push(e.duration); }
  }).observe({ entryTypes: ['gc'] });
  // What scavenges promote into the old generation is what later costs a mark-compact: measured per minor GC as the
  // growth of the old and large-object spaces across it (v8.GCProfiler, Node 20).
  const profiler = new v8.GCProfiler();
  profiler.start();
  process.prependListener('SIGTERM', () => {
    gc.sort((a, b) => a - b);
    const q = (p) => (gc.length ? gc[Math.min(gc.length - 1, Math.ceil((p / 100) * gc.length) - 1)].toFixed(2) : 'n/a');
    const ms = (ns) => (ns / 1e6).toFixed(2);
    process.stderr.write(
      `loop-probe: event-loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} p99.9 ${ms(delay.percentile(99.9))} max ${ms(delay.max)} ms; ` +
        `GC by kind ${Object.entries(byKind).map(([k, v]) => `${GC_KINDS[k] ?? k}: n=${v.length} total ${v.reduce((a, b) => a + b, 0).toFixed(0)} ms max ${Math.max(...v).toFixed(2)}`).join(', ')}; ` +
        `GC pauses n=${gc.length} p50 ${q(50)} p99 ${q(99)} max ${q(100)} ms, total ${gc.reduce((a, b) => a + b, 0).toFixed(0)} ms\n`,
    );
    const old = (side) => side.heapSpaceStatistics.filter((s) => s.spaceName === 'old_space' || s.spaceName === 'large_object_space').reduce((a, s) => a + s.spaceUsedSize, 0);
    let promoted = 0;
    let scavenges = 0;
    for (const g of profiler.stop()?.statistics ?? []) {
      if (g.gcType !== 'Scavenge') continue;
      scavenges++;
      promoted += Math.max(0, old(g.afterGC) - old(g.beforeGC));
    }
    process.stderr.write(`loop-probe: ${scavenges} scavenges promoted ${(promoted / 1048576).toFixed(1)} MiB to the old generation\n`);
    // Minor page faults: where a page's first touch is dear, scavenges and large strings cost mostly these.
    const stat = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    process.stderr.write(`loop-probe: minor page faults ${stat[7] ?? 'n/a'}\n`);
  });
}
