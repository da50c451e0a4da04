// The allocation-free date-time check must give ajv-formats' verdict on every text: hand-picked edges, then a
// seeded stream of mutations of valid timestamps (each character swapped for one that matters to the grammar).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isDateTime } from '../../src/ocpp/date-time.js';
import { validate } from '../../src/ocpp/validate.js';

const require = createRequire(import.meta.url);
const formats = require('ajv-formats/dist/formats') as { fullFormats: Record<string, { validate: (s: string) => boolean }> };
const reference = formats.fullFormats['date-time']!.validate;

const edges = [
  '2026-12-07T03:00:00Z', '2026-12-07T03:00:00.123456Z', '2026-12-07t03:00:00z', '2026-12-07 03:00:00Z', '2026-12-07\t03:00:00Z',
  '2026-12-07T03:00:00+01:00', '2026-12-07T03:00:00-0130', '2026-12-07T03:00:00+01', '2026-12-07T03:00:00+01:', '2026-12-07T03:00:00',
  '2026-12-07T03:00:00.Z', '2026-02-29T00:00:00Z', '2024-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-00-01T00:00:00Z', '2026-01-00T00:00:00Z', '2026-12-31T23:59:60Z',
  '2026-12-31T23:59:60.5Z', '2026-12-31T22:59:60-01:00', '2026-12-31T23:59:61Z', '2026-12-31T24:00:00Z', '2026-12-31T23:60:00Z',
  '2026-12-31T23:59:59+24:00', '2026-12-31T23:59:59+23:60', '2026-12-31T23:59:59ZZ', '2026-12-31TT23:59:59Z', '2026-12-31T23:59:59Z ',
  ' 2026-12-31T23:59:59Z', '2026-12-31T23:59:59\u00a0Z', '2026-1-31T23:59:59Z', '20261231T235959Z', '', 'now', '2026-12-31T23:59:5Z',
  '2026-12-31T23:59:59.1234567890123Z', '२०२६-12-31T23:59:59Z', '2026-12-31T23:59:59+0100', '2026-12-31T00:00:60+00:01',
];

describe('isDateTime', () => {
  it.each(edges)('agrees with ajv-formats on %j', (s) => {
    expect(isDateTime(s)).toBe(reference(s));
  });

  it('agrees with ajv-formats on 50,000 mutated timestamps', () => {
    let seed = 20261207;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const alphabet = '0123456789-:.+TtZz \t\n\u2028xX9';
    const bases = ['2026-12-07T03:00:00Z', '2024-02-29T23:59:60.25+00:00', '1999-12-31 23:59:59-0000', '2026-06-30T12:34:56.7-05'];
    let disagreements = 0;
    let accepted = 0;
    for (let i = 0; i < 50_000; i++) {
      const chars = [...(bases[rand(bases.length)] as string)];
      for (let k = rand(3) + 1; k > 0; k--) {
        const at = rand(chars.length + 1);
        const op = rand(3);
        const c = alphabet[rand(alphabet.length)] as string;
        if (op === 0) chars[at] = c;
        else if (op === 1) chars.splice(at, 0, c);
        else chars.splice(at, 1);
      }
      const s = chars.join('');
      const ours = isDateTime(s);
      if (ours) accepted++;
      if (ours !== reference(s)) disagreements++;
    }
    expect(disagreements).toBe(0);
    // The stream must exercise both verdicts, or the comparison says little.
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(49_000);
  });

  it('is what schema validation uses for date-time fields', () => {
    expect(validate('Heartbeat', 'conf', { currentTime: '2026-12-07T03:00:00Z' })).toBeNull();
    expect(validate('Heartbeat', 'conf', { currentTime: '2026-02-29T03:00:00Z' })?.rule).toBe('format');
  });
});
