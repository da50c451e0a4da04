// The frame stream's per-socket waiting line: first in, first out, refuses frames when full.
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import { FrameQueue } from '../../src/push/frame-queue.js';

const entry = (id: number, raw = 'x'): LogEntry => ({ id, raw }) as unknown as LogEntry;
const drain = (q: FrameQueue): number[] => {
  const out: number[] = [];
  for (let e = q.shift(); e; e = q.shift()) out.push((e as unknown as { id: number }).id);
  return out;
};

describe('FrameQueue', () => {
  it('keeps arrival order and refuses frames beyond its limit', () => {
    const q = new FrameQueue(3, 1_000_000);
    expect([1, 2, 3, 4].map((i) => q.push(entry(i)))).toEqual([true, true, true, false]);
    expect(q.size).toBe(3);
    expect(q.shift()).toEqual(entry(1));
    expect(q.push(entry(5))).toBe(true);
    expect(drain(q)).toEqual([2, 3, 5]);
    expect(q.size).toBe(0);
  });

  it('refuses frames beyond its byte budget (4 × raw length + 512 each), and takes them again once drained', () => {
    const q = new FrameQueue(1000, 3 * (4 * 100 + 512));
    const big = 'y'.repeat(100);
    expect([1, 2, 3, 4].map((i) => q.push(entry(i, big)))).toEqual([true, true, true, false]);
    q.shift();
    expect(q.push(entry(5, big))).toBe(true);
    expect(q.push(entry(6, big))).toBe(false);
    expect(drain(q)).toEqual([2, 3, 5]);
    expect(q.push(entry(7, big))).toBe(true);
  });

  it('stays in order across many pushes and shifts (compaction)', () => {
    const q = new FrameQueue(100, 1_000_000);
    const got: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 80; i++) q.push(entry(next++));
      for (let i = 0; i < 75; i++) got.push((q.shift() as unknown as { id: number }).id);
    }
    got.push(...drain(q));
    // Some pushes were refused when full; what was taken is in order and never repeats.
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(new Set(got).size).toBe(got.length);
    q.clear();
    expect(q.shift()).toBeUndefined();
  });
});
