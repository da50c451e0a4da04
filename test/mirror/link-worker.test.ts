// The relay side of the mirror worker on its own, with a real mirror central system: one turn's frames of several
// stations travel as one batch and each reaches its own station's link in order; a batch that does not split into
// its frames (a NUL inside a frame) is refused whole and counted instead of shifting frames onto other stations.
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
});
