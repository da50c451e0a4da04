// Entry timestamps: six fraction digits, the cached per-second head never leaking into the next second.
import { describe, expect, it } from 'vitest';
import { isoMicros, parseIsoMicros } from '../../src/log/time.js';

describe('isoMicros', () => {
  it('formats µs since the epoch as ISO 8601 with six fraction digits', () => {
    expect(isoMicros(Date.UTC(2025, 2, 1, 12, 0, 0) * 1000 + 123_456)).toBe('2025-03-01T12:00:00.123456Z');
    expect(isoMicros(Date.UTC(2025, 2, 1, 12, 0, 0) * 1000 + 999_999)).toBe('2025-03-01T12:00:00.999999Z');
    expect(isoMicros(Date.UTC(2025, 2, 1, 12, 0, 1) * 1000)).toBe('2025-03-01T12:00:01.000000Z');
    expect(isoMicros(Date.UTC(2025, 2, 1, 12, 0, 0) * 1000 + 7)).toBe('2025-03-01T12:00:00.000007Z');
  });

  it('round-trips through parseIsoMicros across second and day boundaries', () => {
    const base = Date.UTC(2025, 11, 31, 23, 59, 59) * 1000;
    for (const us of [base, base + 999_999, base + 1_000_000, base + 1_000_001, base + 86_400_000_000 + 42]) {
      expect(parseIsoMicros(isoMicros(us))).toBe(us);
    }
  });
});
