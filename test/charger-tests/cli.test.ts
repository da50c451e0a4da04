// npm run charger-test: the command line against a running gateway, as a child process — progress lines, the
// reports written, and the exit code a CI reads.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { until } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../..');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/charger-test.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '' }, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let gw: TestGateway;
let token: string;
let out: string;

beforeAll(async () => {
  gw = await startGateway({ SIM_BOOT_DELAY_MS: '200' }, { simClockSpeed: 10 });
  token = gw.authHeader('operator').authorization.slice('Bearer '.length);
  out = mkdtempSync(path.join(os.tmpdir(), 'cb-cli-'));
  gw.sim.create({ id: 'CLI-SIM', autopilot: false });
  await until(() => gw.relay.stations().some((s) => s.chargeBoxId === 'CLI-SIM'), 20_000, 'the simulated station');
});
afterAll(async () => {
  await gw?.stop();
});

describe('npm run charger-test', () => {
  it('runs the chosen cases on a simulated station, prints a line per case and writes JUnit, JSON and HTML', async () => {
    const files = { junit: path.join(out, 'r.xml'), json: path.join(out, 'r.json'), html: path.join(out, 'r.html') };
    const r = await cli(['--gateway', gw.httpUrl, '--token', token, '--station', 'CLI-SIM', '--case', 'get-configuration-unknown-key,status-sequence',
      '--junit', files.junit, '--json', files.json, '--html', files.html]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[1\/2\] PASS +status-sequence/);
    expect(r.stdout).toMatch(/\[2\/2\] PASS +get-configuration-unknown-key/);
    expect(r.stdout).toMatch(/2 pass, 0 fail, 0 inconclusive, 0 not applicable/);
    expect(readFileSync(files.junit, 'utf8')).toMatch(/<testsuites name="chargebridge charger tests" tests="2" failures="0"/);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toMatchObject({ chargeBoxId: 'CLI-SIM', state: 'finished', summary: { pass: 2 } });
    expect(readFileSync(files.html, 'utf8')).toContain('<h1>Charger tests: CLI-SIM</h1>');
  }, 100_000);

  it('exits 1 on a failing board and names the frames', async () => {
    // A board that claims to know every key.
    const ws = new WebSocket(gw.wsUrl('CLI-BAD'), ['ocpp1.6']);
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as unknown[];
      if (f[0] === 2) ws.send(JSON.stringify([3, f[1], { configurationKey: [{ key: 'ChargebridgeNoSuchKey', readonly: false, value: '' }] }]));
    });
    await new Promise((resolve) => ws.once('open', resolve));
    try {
      const r = await cli(['--gateway', gw.httpUrl, '--token', token, '--station', 'CLI-BAD', '--case', 'get-configuration-unknown-key']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL +get-configuration-unknown-key/);
      expect(r.stdout).toMatch(/frames: message log ids \d+, \d+/);
    } finally {
      ws.close();
    }
  }, 100_000);

  it('says what is missing: no station, no token, a station that is not connected', async () => {
    const none = await cli(['--gateway', gw.httpUrl]);
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(/--station is required/);
    const noToken = await cli(['--gateway', gw.httpUrl, '--station', 'CLI-SIM']);
    expect(noToken.code).toBe(4);
    expect(noToken.stderr).toMatch(/--token/);
    const absent = await cli(['--gateway', gw.httpUrl, '--token', token, '--station', 'GHOST']);
    expect(absent.code).toBe(4);
    expect(absent.stderr).toMatch(/GHOST is not connected/);
  }, 100_000);
});
