// The helpers that keep wire data safe to store: a depth check that survives any depth, a stringify that never
// throws, and a UTF-8 cut that never splits a character.
import { describe, expect, it } from 'vitest';
import { exceedsDepth, truncateUtf8, tryStringify } from '../../src/events/json-safety.js';

describe('json safety', () => {
  it('exceedsDepth walks any depth without recursion', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    expect(exceedsDepth(deep, 64)).toBe(true);
    expect(exceedsDepth({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(exceedsDepth({ a: [{ b: {} }] }, 3)).toBe(true);
    expect(exceedsDepth('text', 0)).toBe(false);
  });

  it('tryStringify answers undefined where JSON.stringify throws', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(tryStringify(cycle)).toBeUndefined();
    expect(tryStringify({ n: 1n })).toBeUndefined();
    expect(tryStringify(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))).toBeUndefined();
    expect(tryStringify({ a: 1 })).toBe('{"a":1}');
  });

  it('truncateUtf8 keeps at most maxBytes bytes, whole characters only', () => {
    expect(truncateUtf8('short', 100)).toBe('short');
    expect(truncateUtf8('x'.repeat(100), 100)).toBe('x'.repeat(100));
    expect(truncateUtf8('x'.repeat(101), 100)).toBe('x'.repeat(100));
    const mixed = 'aé€😀'.repeat(1000); // 1, 2, 3 and 4 bytes
    for (const max of [1, 2, 3, 4, 5, 9, 10, 11, 100, 1001]) {
      const cut = truncateUtf8(mixed, max);
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max);
      expect(mixed.startsWith(cut)).toBe(true);
      expect(cut).not.toMatch(/\uFFFD/);
      expect(max - Buffer.byteLength(cut)).toBeLessThan(4);
    }
  });
});
