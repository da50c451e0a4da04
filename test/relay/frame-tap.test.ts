// The frame tap hands observations to observers in slices, so frames arriving meanwhile are relayed between two
// slices instead of waiting behind a whole batch; what waits is bounded in bytes, drops counted.
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/events/bus.js';
import type { FrameObservation } from '../../src/events/observations.js';
import { FrameTap } from '../../src/relay/frame-tap.js';

const obs = (i: number, raw = `[2,"${i}","Heartbeat",{}]`): FrameObservation => ({
  atUs: i, chargeBoxId: 'CP1', linkKind: 'ws', leg: 'station', direction: 'in', origin: 'station', disposition: 'forwarded', raw,
});
const busyWait = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* an observer that costs `ms` per frame */ }
};
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('FrameTap', () => {
  it('delivers a large batch over several turns of the event loop, in order, each turn within its slice', async () => {
    const bus = new Bus();
    const seen: number[] = [];
    bus.on('frame', (f) => { busyWait(0.05); seen.push(f.atUs); });
    const tap = new FrameTap(bus, () => {}, undefined, { sliceMs: 1 });
    for (let i = 0; i < 400; i++) tap.frame(obs(i)); // 400 × 0.05 ms = 20 ms of observer work
    const perTurn: number[] = [];
    let turns = 0;
    while (seen.length < 400 && turns < 1000) {
      const before = seen.length;
      const t0 = performance.now();
      await nextTurn();
      perTurn.push(performance.now() - t0);
      if (seen.length > before) turns++;
    }
    expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => i));
    // One turn would have held the loop for all 20 ms; slices of 1 ms (checked every 8 frames) take many turns.
    expect(turns).toBeGreaterThanOrEqual(5);
    expect(tap.stats()).toMatchObject({ dropped: 0, queuedBytes: 0 });
  });

  it('flush() delivers everything at once (shutdown)', () => {
    const bus = new Bus();
    let n = 0;
    bus.on('frame', () => { busyWait(0.05); n++; });
    const tap = new FrameTap(bus, () => {}, undefined, { sliceMs: 0.1 });
    for (let i = 0; i < 100; i++) tap.frame(obs(i));
    tap.flush();
    expect(n).toBe(100);
  });

  it('drops frame observations past its byte budget and counts them; link changes are kept', async () => {
    const bus = new Bus();
    const frames: number[] = [];
    let links = 0;
    bus.on('frame', (f) => frames.push(f.atUs));
    bus.on('link', () => links++);
    const big = 'x'.repeat(10_000); // costs 2 × 10,000 + 256 bytes
    const tap = new FrameTap(bus, () => {}, undefined, { queueBytes: 50_000 });
    for (let i = 0; i < 5; i++) tap.frame(obs(i, big));
    tap.link({ kind: 'upstream', chargeBoxId: 'CP1', state: 'open', at: new Date().toISOString() });
    expect(tap.stats()).toMatchObject({ dropped: 3, queueBytes: 50_000 });
    await nextTurn();
    await nextTurn();
    expect(frames).toEqual([0, 1]);
    expect(links).toBe(1);
    expect(tap.stats().queuedBytes).toBe(0);
    // Room again once delivered.
    tap.frame(obs(9, big));
    await nextTurn();
    expect(frames).toEqual([0, 1, 9]);
  });

  it('an observer that throws is counted and does not stop the others', async () => {
    const bus = new Bus();
    const errors: unknown[] = [];
    let after = 0;
    bus.on('frame', (f) => { if (f.atUs === 1) throw new Error('observer bug'); });
    bus.on('frame', () => after++);
    const tap = new FrameTap(bus, (e) => errors.push(e));
    for (let i = 0; i < 3; i++) tap.frame(obs(i));
    await nextTurn();
    expect(tap.observerErrors).toBe(1);
    expect(errors).toHaveLength(1);
    // The throwing listener ran first for frame 1, so the second listener missed that frame only.
    expect(after).toBe(2);
  });
});
