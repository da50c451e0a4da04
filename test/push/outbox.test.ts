// The per-socket waiting line: coalescing, eviction order, overflow.
import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxItem } from '../../src/push/outbox.js';

const meter = (c: number, v: number): OutboxItem => ({ name: 'event', payload: { c, v }, delivery: 'coalesce', key: `m:${c}` });
const status = (v: string): OutboxItem => ({ name: 'event', payload: v, delivery: 'keep' });
const beat = (v: number): OutboxItem => ({ name: 'event', payload: { beat: v }, delivery: 'lossy' });
const drain = (o: Outbox): unknown[] => {
  const out: unknown[] = [];
  for (let i = o.shift(); i; i = o.shift()) out.push(i.payload);
  return out;
};

describe('Outbox', () => {
  it('keeps the latest meter value per connector, moved behind what came before it', () => {
    const o = new Outbox(10);
    expect(o.push(meter(1, 1))).toBe('queued');
    expect(o.push(status('Charging'))).toBe('queued');
    expect(o.push(meter(2, 1))).toBe('queued');
    expect(o.push(meter(1, 2))).toBe('coalesced');
    expect(o.size).toBe(3);
    expect(drain(o)).toEqual(['Charging', { c: 2, v: 1 }, { c: 1, v: 2 }]);
  });

  it('when full: lossy items are refused, keep items evict the oldest evictable, overflow when none is left', () => {
    const o = new Outbox(3);
    o.push(beat(1));
    o.push(status('A'));
    o.push(meter(1, 1));
    expect(o.push(beat(2))).toBe('dropped');
    expect(o.push(status('B'))).toBe('dropped'); // evicted beat 1
    expect(o.push(status('C'))).toBe('dropped'); // evicted meter 1
    expect(o.push(status('D'))).toBe('overflow');
    expect(o.push(meter(2, 5))).toBe('dropped');
    expect(drain(o)).toEqual(['A', 'B', 'C']);
  });

  it('a coalesced key can be queued again after it was shifted out', () => {
    const o = new Outbox(5);
    o.push(meter(1, 1));
    expect(o.shift()?.payload).toEqual({ c: 1, v: 1 });
    expect(o.push(meter(1, 2))).toBe('queued');
    expect(o.push(meter(1, 3))).toBe('coalesced');
    expect(drain(o)).toEqual([{ c: 1, v: 3 }]);
  });
});
