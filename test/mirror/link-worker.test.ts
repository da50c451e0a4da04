// The relay side of the mirror worker on its own, with a real mirror central system: one turn's frames of several
// stations travel as one batch and each reaches its own station's link in order; a batch that does not split into
// its frames (a NUL inside a frame) is refused whole and counted instead of shifting frames onto other stations;
// batches handed to a worker that then crashes or stalls, and that it never took, count as dropped.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseMirrorLimits } from '../../src/mirror/config.js';
import { MirrorWorker } from '../../src/mirror/link-worker.js';
import { linkSetup } from '../../src/mirror/worker-protocol.js';
import { cleanups, mirrorCs, until } from './helpers.js';

describe('MirrorWorker', () => {
  it('routes one batch to several stations in order, and refuses a batch that does not split into its frames', async () => {
    const mirror = await mirrorCs();
    const limits = parseMirrorLimits({ MIRROR_STATS_MS: '100' }, 1024 * 1024);
    const worker = new MirrorWorker({ limits, logger: pino({ level: 'silent' }), onFrame: () => undefined, onLate: () => undefined });
    cleanups.push(() => worker.stop());
    const spec = { id: 'm', url: mirror.url, stations: 'all' as const, rename: {}, allowActions: [], answers: true, logAnswers: false, origin: 'api' as const };
    const [s1, s2] = [worker.station(), worker.station()];
    const l1 = worker.open('m', s1, 'A', linkSetup(spec, 'A', limits, undefined));
    const l2 = worker.open('m', s2, 'B', linkSetup(spec, 'B', limits, undefined));
    await until(async () => { await worker.refresh(); return [l1.state, l2.state]; }, (s) => s.every((x) => x === 'open'), 20_000);

    worker.fromStation(s1, '[2,"a1","Heartbeat",{}]');
    worker.fromStation(s2, '[2,"b1","Heartbeat",{"é":"ü"}]');
    worker.fromUpstream(s1, '[3,"a1",{}]');
    worker.fromStation(s2, '[2,"b2","Heartbeat",{}]');
    await mirror.waitFor((f) => f.frame[1] === 'b2');
    await mirror.waitFor((f) => f.frame[1] === 'a1' && f.frame[0] === 3);
    expect(mirror.received.filter((f) => f.chargeBoxId === 'A').map((f) => f.frame)).toEqual([[2, 'a1', 'Heartbeat', {}], [3, 'a1', {}]]);
    expect(mirror.received.filter((f) => f.chargeBoxId === 'B').map((f) => f.frame)).toEqual([[2, 'b1', 'Heartbeat', { é: 'ü' }], [2, 'b2', 'Heartbeat', {}]]);

    // Not valid JSON, so the relay never hands such a frame over; if it did, the batch is refused, not misrouted.
    worker.fromStation(s1, '[2,"x1","Heartbeat",{}]\0[2,"x2","Heartbeat",{}]');
    worker.fromStation(s2, '[2,"x3","Heartbeat",{}]');
    await until(() => worker.health().refusedBatches, (n) => n === 1);
    worker.fromStation(s2, '[2,"b3","Heartbeat",{}]');
    await mirror.waitFor((f) => f.frame[1] === 'b3');
    expect(mirror.received.some((f) => String(f.frame[1]).startsWith('x'))).toBe(false);
    await worker.refresh();
    expect(l2.stats()).toMatchObject({ state: 'open', sent: 3, dropped: 0 });
  });

  for (const kind of ['crash', 'stall'] as const) {
    it(`counts as dropped the frames of batches posted to the worker that it never took (${kind})`, async () => {
      const mirror = await mirrorCs();
      const limits = parseMirrorLimits({ MIRROR_STATS_MS: '100', MIRROR_WORKER_STALL_MS: '500', MIRROR_RETRY_BASE_MS: '50', MIRROR_RETRY_MAX_MS: '200' }, 1024 * 1024);
      const worker = new MirrorWorker({ limits, logger: pino({ level: 'silent' }), onFrame: () => undefined, onLate: () => undefined });
      cleanups.push(() => worker.stop());
      const spec = { id: 'm', url: mirror.url, stations: 'all' as const, rename: {}, allowActions: [], answers: true, logAnswers: false, origin: 'api' as const };
      const [s1, s2] = [worker.station(), worker.station()];
      const l1 = worker.open('m', s1, 'A', linkSetup(spec, 'A', limits, undefined));
      const l2 = worker.open('m', s2, 'B', linkSetup({ ...spec, answers: false }, 'B', limits, undefined));
      await until(async () => { await worker.refresh(); return [l1.state, l2.state]; }, (s) => s.every((x) => x === 'open'), 20_000);
      // Taken and sent before the fault: not dropped.
      worker.fromStation(s1, '[2,"a0","Heartbeat",{}]');
      await mirror.waitFor((f) => f.frame[1] === 'a0');
      await worker.refresh();
      expect(l1.stats()).toMatchObject({ sent: 1, dropped: 0 });

      worker.fault(kind);
      // Several batches (one per turn) posted after the fault, while the relay side still holds the worker.
      for (let turn = 0; turn < 5; turn++) {
        worker.fromStation(s1, `[2,"a${turn + 1}","Heartbeat",{}]`);
        worker.fromUpstream(s1, `[3,"a${turn + 1}",{}]`);
        worker.fromUpstream(s2, `[3,"b${turn + 1}",{}]`); // not for B's mirror (answers: false): no frame, no drop
        worker.fromStation(s2, `[2,"b${turn + 1}","Heartbeat",{}]`);
        await new Promise((r) => setImmediate(r));
      }
      await until(() => worker.health(), (h) => h.restarts === 1 && h.state === 'running', 20_000);
      expect(worker.health().lastFailure).toMatch(kind === 'crash' ? /failed|exited/ : /did not report/);
      expect(l1.stats()).toMatchObject({ sent: 1, dropped: 10 });
      expect(l2.stats()).toMatchObject({ sent: 0, dropped: 5 });
      // Frames of the batches, as backlogDrops counts them: posted to the failing worker, or (a crashed worker's exit
      // seen between two turns) not posted as it was gone.
      const h = worker.health();
      expect(h.unacknowledgedDrops).toBeGreaterThanOrEqual(4);
      expect(h.unacknowledgedDrops + h.backlogDrops).toBe(20);
      expect(mirror.received.some((f) => f.frame[1] !== 'a0' && f.chargeBoxId === 'A' && f.frame[0] === 2)).toBe(false);
      // The new worker takes frames again, and nothing it takes is counted as dropped.
      await until(async () => { await worker.refresh(); return [l1.state, l2.state]; }, (s) => s.every((x) => x === 'open'), 20_000);
      worker.fromStation(s1, '[2,"a9","Heartbeat",{}]');
      await mirror.waitFor((f) => f.frame[1] === 'a9');
      await worker.refresh();
      expect(l1.stats()).toMatchObject({ sent: 2, dropped: 10 });
    });
  }
});
