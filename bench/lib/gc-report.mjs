// Preload for the processes a bench compares (the gateway and its floor): bytes allocated and GC pauses, written as
// JSON to $GC_REPORT_FILE when the process gets SIGTERM. Allocation is read from V8's GC statistics: what the young
// generation and the large-object space held before each GC, less what they held after the one before.
// Use: node --import ./bench/lib/gc-report.mjs script (the bench sets GC_REPORT_FILE per process).
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const file = process.env.GC_REPORT_FILE;
if (file) {
  const pauses = [];
  let majors = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      pauses.push(e.duration);
      if (e.detail?.kind !== 1) majors++; // 1: minor (scavenge)
    }
  }).observe({ entryTypes: ['gc'] });
  let profiler = new v8.GCProfiler();
  profiler.start();
  let youngAtStart = 0;
  // SIGUSR2: the measurement starts now (leaves start-up and connecting out of the figures).
  process.on('SIGUSR2', () => {
    profiler.stop();
    profiler = new v8.GCProfiler();
    profiler.start();
    pauses.length = 0;
    majors = 0;
    youngAtStart = young({ heapSpaceStatistics: v8.getHeapSpaceStatistics() });
  });
  const young = (side) => side.heapSpaceStatistics.filter((s) => s.spaceName === 'new_space' || s.spaceName === 'new_large_object_space' || s.spaceName === 'large_object_space' || s.spaceName === 'code_large_object_space').reduce((a, s) => a + s.spaceUsedSize, 0);
  process.on('SIGTERM', () => {
    let allocated = 0;
    let after = youngAtStart;
    for (const g of profiler.stop()?.statistics ?? []) {
      const before = young(g.beforeGC);
      allocated += Math.max(0, before - after);
      after = young(g.afterGC);
    }
    pauses.sort((a, b) => a - b);
    const q = (p) => (pauses.length ? pauses[Math.min(pauses.length - 1, Math.ceil((p / 100) * pauses.length) - 1)] : 0);
    writeFileSync(file, JSON.stringify({ allocatedBytes: allocated, gcCount: pauses.length, majors, pauseP50Ms: q(50), pauseP99Ms: q(99), pauseMaxMs: q(100), pauseTotalMs: pauses.reduce((a, b) => a + b, 0) }));
    // Alone (the floor proxy has no handler of its own), this listener would keep the process alive.
    if (process.listenerCount('SIGTERM') === 1) process.exit(0);
  });
}
