// The gateway as a process: configuration errors, TLS, and a clean SIGTERM shutdown.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectStation } from '../support/station-client.js';

const root = path.resolve(import.meta.dirname, '../..');

function runGateway(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', SIM_STATIONS: '0', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-proc-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line; stdout=${out} stderr=${err}`)), 20_000);
    child.stdout.on('data', () => {
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, exited, port, output: () => out + err };
}

describe('gateway process', () => {
  it('stops with exit 2 and names the bad variable', async () => {
    const { exited, output } = runGateway({ PORT: 'eighty' });
    expect(await exited).toBe(2);
    expect(output()).toMatch(/PORT="eighty" is invalid: expected an integer/);
    const bad = runGateway({ STEVE_WS_URL: 'http://nope' });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toMatch(/STEVE_WS_URL/);
  });

  it('closes every link with 1001 on SIGTERM and exits 0', async () => {
    const gw = runGateway({});
    const port = await gw.port;
    const st = await connectStation(`ws://127.0.0.1:${port}/ocpp/CP-term`);
    await st.call('Heartbeat', {});
    gw.child.kill('SIGTERM');
    const closed = await st.closed;
    expect(closed.code).toBe(1001);
    expect(closed.reason).toBe('gateway shutting down');
    expect(await gw.exited).toBe(0);
    expect(gw.output()).toMatch(/"msg":"stopped"/);
  });

  it('serves stations over TLS when a certificate is configured (security profile 2)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const gw = runGateway({ TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
    const port = await gw.port;
    // A client that does not trust the certificate is refused by TLS itself.
    const untrusted = new WebSocket(`wss://127.0.0.1:${port}/ocpp/CP-tls`, ['ocpp1.6']);
    await expect(new Promise((_, reject) => untrusted.on('error', reject))).rejects.toThrow(/self[- ]signed/);
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ocpp/CP-tls`, ['ocpp1.6'], { ca: readFileSync(cert) });
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    ws.send(JSON.stringify([2, 't1', 'Heartbeat', {}]));
    const answer = await new Promise<unknown[]>((resolve) => ws.on('message', (d) => resolve(JSON.parse(d.toString()) as unknown[])));
    expect(answer[0]).toBe(3);
    ws.close();
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });
});
