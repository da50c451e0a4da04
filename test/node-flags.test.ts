// The start command and the benches run the gateway with the same V8 flags (src/node-flags.ts), and a gateway
// started without them says so.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS, hasSemiSpaceFlag } from '../src/node-flags.js';

const root = path.resolve(import.meta.dirname, '..');

describe('the gateway node flags', () => {
  it('are what npm start runs', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`exec node ${GATEWAY_NODE_FLAGS.join(' ')} dist/main.js`);
  });

  it('are documented for systemd and containers', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`ExecStart=/usr/bin/node ${GATEWAY_NODE_FLAGS.join(' ')} dist/main.js`);
  });

  it('are recognised on the command line or in NODE_OPTIONS, and missing otherwise', () => {
    expect(hasSemiSpaceFlag([...GATEWAY_NODE_FLAGS], undefined)).toBe(true);
    expect(hasSemiSpaceFlag([], '--max-semi-space-size=2 --trace-gc')).toBe(true);
    expect(hasSemiSpaceFlag(['--import', 'tsx'], '')).toBe(false);
    expect(hasSemiSpaceFlag([], undefined)).toBe(false);
  });
});
