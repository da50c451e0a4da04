// The fuzzer as `npm test` runs it: a short fixed-seed run against the real gateway process in both modes must
// find nothing, and the fuzzer's own checks must be able to fail. Linux only (reads /proc).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function fuzz(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/fuzz.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

const gatewayPids = (out: string): number[] => [...out.matchAll(/gateway pid (\d+)/g)].map((m) => Number(m[1]));

describe('fuzz', () => {
  it('a short fixed-seed run (embedded and relay) finds no violation', async () => {
    // No p99 ratio here: the test machine is shared, and tests assert no wall-clock speed (bench:fuzz does).
    // Frames up to 256 KiB, so that large ones also go through the relay's decoder thread (64 KiB and more).
    const run = await fuzz(['--frames', '3000', '--seconds', '4', '--seed', '20261206', '--mode', 'both', '--max-p99-ratio', '0', '--max-frame-bytes', '262144']);
    expect(run.out.split('\n').filter((l) => l.includes('VIOLATION'))).toEqual([]);
    expect(run.out).toContain('fuzz: PASS, 0 violations');
    expect(run.code).toBe(0);
    // Fewer than half the frames sent would itself be a violation (too-few-frames); a slow machine may send fewer.
    expect(run.out).toMatch(/\[embedded\] frames: \d{4} sent/);
    expect(run.out).toMatch(/\[relay\] frames: \d{4} sent/);
    expect(run.out).toMatch(/\[relay\] upstream: [1-9]\d* frames received, 0 malformed/);
    expect(run.out).toMatch(/\[embedded\] large frames: offThread [1-9]\d*, heads [1-9]\d*, headsRedone \d+, inPlace \d+, inboxPauses \d+, inboxFlushes \d+, threadFailures 0/);
    expect(run.out).toMatch(/\[relay\] large frames: offThread [1-9]\d*, heads [1-9]\d*, headsRedone \d+, inPlace \d+, inboxPauses \d+, inboxFlushes \d+, threadFailures 0/);
    const pids = gatewayPids(run.out);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 420_000);

  it('fails, naming the violation, when a check is not met (here a 1 MiB RSS ceiling)', async () => {
    const run = await fuzz(['--frames', '200', '--seconds', '2', '--baseline-seconds', '1', '--seed', '7', '--mode', 'local', '--only', 'known-action', '--rss-ceiling-mb', '1']);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/\[embedded\] VIOLATION rss-ceiling: 1; e\.g\. peak RSS \d+ MiB is over the ceiling 1 MiB/);
    expect(run.out).toMatch(/fuzz: FAIL, \d+ violations \(seed 7\)/);
    for (const pid of gatewayPids(run.out)) expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 180_000);

  it('refuses bad usage with exit 2 and says what is expected', async () => {
    const missing = await fuzz(['--seconds', '1']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--frames and --seconds are required');
    const badCategory = await fuzz(['--frames', '1', '--seconds', '1', '--only', 'nonsense']);
    expect(badCategory.code).toBe(2);
    expect(badCategory.err).toContain('unknown category "nonsense"');
  }, 60_000);
});
