// Fault rules as data: what parseFaultRule accepts and fills in, and the seeded sequence every rule draws from.
import { describe, expect, it } from 'vitest';
import { FaultRuleError, parseFaultRule } from '../../src/relay/faults/index.js';
import { SeededRandom } from '../../src/relay/faults/random.js';

describe('parseFaultRule', () => {
  it('fills defaults: both directions, rate 1, a seed; durations from durationS or until', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const r = parseFaultRule({ kind: 'drop', durationS: 2 }, now);
    expect(r).toMatchObject({ spec: { kind: 'drop', direction: 'both', rate: 1 }, durationMs: 2000, persistent: false });
    expect(Number.isInteger((r.spec as { seed: number }).seed)).toBe(true);
    expect(parseFaultRule({ kind: 'drop', until: '2026-01-01T00:01:00Z' }, now).durationMs).toBe(60_000);
    expect(parseFaultRule({ kind: 'delay', delay: 250 }).spec).toMatchObject({ delay: { ms: 250 } });
    expect(parseFaultRule({ kind: 'delay', delay: { mean: 100, sd: 20 } }).spec).toMatchObject({ delay: { mean: 100, sd: 20 } });
    expect(parseFaultRule({ kind: 'cut' }).spec).toEqual({ kind: 'cut', abrupt: false, code: 1001, reason: 'cut by fault injection' });
    // An upstream that closes the station must outlive the disconnects it causes.
    expect(parseFaultRule({ kind: 'upstreamDown', mode: 'close', durationS: 5 }).persistent).toBe(true);
    expect(parseFaultRule({ kind: 'answer', actions: ['BootNotification'], answer: { bootStatus: 'Rejected' } }).spec).toMatchObject({ mode: 'instead', answer: { bootStatus: 'Rejected', interval: 60 } });
  });

  it('names the field that is wrong', () => {
    const field = (raw: unknown): string => {
      try {
        parseFaultRule(raw);
      } catch (err) {
        expect(err).toBeInstanceOf(FaultRuleError);
        return (err as FaultRuleError).field;
      }
      throw new Error('accepted');
    };
    expect(field(null)).toBe('rule');
    expect(field({ kind: 'duplicate', copies: 0 })).toBe('copies');
    expect(field({ kind: 'reorder', window: 1 })).toBe('window');
    expect(field({ kind: 'drop', seed: -1 })).toBe('seed');
    expect(field({ kind: 'drop', actions: [] })).toBe('actions');
    expect(field({ kind: 'upstreamDown' })).toBe('durationS');
    expect(field({ kind: 'answer', actions: ['Authorize'], mode: 'replace', answer: { none: true } })).toBe('answer');
    expect(field({ kind: 'answer', answer: { none: true } })).toBe('actions');
    expect(field({ kind: 'drop', until: 'yesterday' })).toBe('until');
    expect(field({ kind: 'drop', persistent: 'yes' })).toBe('persistent');
  });
});

describe('SeededRandom', () => {
  it('repeats exactly for a seed and differs for another', () => {
    const seq = (seed: number) => Array.from({ length: 50 }, ((r) => () => r.next())(new SeededRandom(seed)));
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    expect(seq(42).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('draws delays from the distribution asked for', () => {
    const r = new SeededRandom(1);
    const uniform = Array.from({ length: 2000 }, () => r.delay({ min: 100, max: 200 }));
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...uniform)).toBeLessThan(200);
    const normal = Array.from({ length: 4000 }, () => r.delay({ mean: 500, sd: 50 }));
    const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
    const sd = Math.sqrt(normal.reduce((a, b) => a + (b - mean) ** 2, 0) / normal.length);
    expect(mean).toBeGreaterThan(490);
    expect(mean).toBeLessThan(510);
    expect(sd).toBeGreaterThan(45);
    expect(sd).toBeLessThan(55);
    expect(r.delay({ ms: 7 })).toBe(7);
    expect(Array.from({ length: 1000 }, () => r.delay({ mean: 10, sd: 50 })).every((d) => d >= 0)).toBe(true);
  });
});
