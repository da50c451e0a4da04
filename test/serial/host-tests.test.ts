// The C++ codec and board link state machine, built with g++ and unit-tested on the host against the shared
// vectors (firmware-bridge/test/run-host-tests.sh), so `npm test` covers the firmware side too.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRMWARE_BRIDGE } from './support/device.js';

describe('firmware-bridge host tests (g++)', () => {
  it('builds the portable codec and passes every check, vectors included', () => {
    const out = execFileSync('bash', [path.join(FIRMWARE_BRIDGE, 'test', 'run-host-tests.sh')], { encoding: 'utf8', stdio: 'pipe' });
    const m = /(\d+) checks, (\d+) failures/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m?.[2])).toBe(0);
    // Both protocol versions: 4 crc + 18 encode (with their lines) + 5 control + 34 decode×3 (×2 with the version
    // check) vector checks, plus the link and version tests.
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(300);
  }, 120_000);
});
