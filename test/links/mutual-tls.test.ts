// Security profile 3: with TLS_CLIENT_CA_FILE the gateway asks every peer for a client certificate, accepts a
// station only with one signed by that CA whose subject CN is its chargeBoxId, and says why it refuses; browsers
// and Socket.IO clients on the same port need no certificate. Certificates are made by openssl in the test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import pino from 'pino';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-mtls-'));
const f = (name: string): string => path.join(dir, name);
const openssl = (...args: string[]): void => {
  execFileSync('openssl', args, { stdio: 'ignore' });
};
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function ca(name: string): void {
  openssl('req', '-x509', ...EC, '-subj', `/CN=${name}`, '-days', '1', '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`));
}
function signed(name: string, cn: string, by: string): { cert: Buffer; key: Buffer } {
  openssl('req', ...EC, '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
  openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${by}.pem`), '-CAkey', f(`${by}.key`), '-CAcreateserial', '-days', '1', '-out', f(`${name}.pem`));
  return { cert: readFileSync(f(`${name}.pem`)), key: readFileSync(f(`${name}.key`)) };
}

let gw: TestGateway;
let serverCa: Buffer;
let cp1: { cert: Buffer; key: Buffer };
let other: { cert: Buffer; key: Buffer };
let stranger: { cert: Buffer; key: Buffer };
const logLines: string[] = [];

beforeAll(async () => {
  openssl('req', '-x509', ...EC, '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', f('server.key'), '-out', f('server.pem'));
  serverCa = readFileSync(f('server.pem'));
  ca('station-ca');
  ca('untrusted-ca');
  cp1 = signed('cp1', 'CP1', 'station-ca');
  other = signed('other', 'OTHER', 'station-ca');
  stranger = signed('stranger', 'CP1', 'untrusted-ca');
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logLines.push(chunk.toString()); cb(); } });
  gw = await startGateway(
    { TLS_CERT_FILE: f('server.pem'), TLS_KEY_FILE: f('server.key'), TLS_CLIENT_CA_FILE: f('station-ca.pem'), JWT_SECRET: 'mtls-test-secret-0123456789abcdefghijkl' },
    { logger: pino({ level: 'info' }, sink) },
  );
}, 60_000);
afterAll(async () => {
  await gw?.stop();
});

const url = (id: string): string => `wss://127.0.0.1:${gw.port}/ocpp/${id}`;

async function refusal(id: string, client?: { cert: Buffer; key: Buffer }): Promise<{ status?: number; body?: string }> {
  try {
    const st = await connectStation(url(id), { tls: { ca: serverCa, ...(client ?? {}) } });
    st.close();
    return {};
  } catch (err) {
    const e = err as { status?: number; body?: string };
    return { ...(e.status !== undefined ? { status: e.status } : {}), ...(e.body !== undefined ? { body: e.body } : {}) };
  }
}

describe('mutual TLS (security profile 3)', () => {
  it('accepts a station whose certificate is signed by the client CA with CN = chargeBoxId', async () => {
    const st = await connectStation(url('CP1'), { tls: { ca: serverCa, ...cp1 } });
    expect((await st.call('Heartbeat', {}))[0]).toBe(3);
    st.close();
  });

  it('refuses without a certificate, with an untrusted one, and with a CN that is another station, saying why', async () => {
    const none = await refusal('CP1');
    expect(none.status).toBe(401);
    expect(none.body).toMatch(/no client certificate/);
    const untrusted = await refusal('CP1', stranger);
    expect(untrusted.status).toBe(401);
    expect(untrusted.body).toMatch(/not trusted/);
    const mismatch = await refusal('CP1', other);
    expect(mismatch.status).toBe(403);
    expect(mismatch.body).toMatch(/CN "OTHER" does not match chargeBoxId "CP1"/);
    // The right certificate for another id is no good either.
    expect((await refusal('OTHER', cp1)).status).toBe(403);
    const warnings = logLines.filter((l) => l.includes('station refused') && l.includes('"level":40'));
    expect(warnings.some((l) => l.includes('no client certificate'))).toBe(true);
    expect(warnings.some((l) => l.includes('does not match'))).toBe(true);
  });

  it('serves the API and Socket.IO to clients without a certificate on the same port', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      https.get(`https://127.0.0.1:${gw.port}/api/health`, { ca: serverCa, headers: gw.authHeader() }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(200);
    const token = gw.push.issueToken({ sub: 'browser', role: 'operator', ttl: '1h' });
    const socket = ioClient(`https://127.0.0.1:${gw.port}`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token }, ca: serverCa.toString() });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    socket.close();
  });

  it('TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE, and a file that can be read', () => {
    expect(() => loadConfig({ TLS_CLIENT_CA_FILE: f('station-ca.pem') })).toThrow(/TLS_CLIENT_CA_FILE.*needs TLS_CERT_FILE/);
    expect(() => loadConfig({ TLS_CERT_FILE: f('server.pem'), TLS_KEY_FILE: f('server.key'), TLS_CLIENT_CA_FILE: f('missing.pem') })).toThrow(/TLS_CLIENT_CA_FILE=.*missing\.pem cannot be read: ENOENT/);
  });
});
