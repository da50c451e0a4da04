// Preload for benchmark processes: a sampling heap profile of the gateway that keeps objects the GC has already
// collected, i.e. everything allocated, not only what is still live. Written on SIGTERM to
// /tmp/chargebridge-alloc-<pid>.heapprofile (opens in Chrome DevTools; bench/lib/alloc-report.mjs sums it up).
// Use: BENCH_NODE_ARGS="--import ./bench/lib/alloc-probe.mjs" ALLOC_DELAY_MS=25000 npm run bench:relay
// (ALLOC_DELAY_MS skips start-up and, for bench:relay, the direct phase.) ALLOC_SURVIVORS=1 keeps only what survived
// the young generation (what a scavenge copied into the old one, dead since or not): where promotion comes from.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

if (process.argv.some((a) => /main\.[jt]s$/.test(a))) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  setTimeout(() => {
    session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMinorGC: process.env.ALLOC_SURVIVORS !== '1', includeObjectsCollectedByMajorGC: true });
  }, Number(process.env.ALLOC_DELAY_MS ?? 0)).unref();
  process.prependListener('SIGTERM', () => {
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(`/tmp/chargebridge-alloc-${process.pid}.heapprofile`, JSON.stringify(result.profile));
    });
  });
}
