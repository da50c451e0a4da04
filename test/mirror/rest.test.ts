// Mirror upstreams over REST, with the embedded central system as primary: operators add, change and remove
// mirrors while stations are connected; a wss:// mirror with its own CA and Basic auth; what a mirror missed
// while down is sent in order when it is back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MirrorView } from '../../src/mirror/index.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { cleanups, mirrorCs, station, until } from './helpers.js';

async function gateway(config: unknown): Promise<TestGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-mirror-rest-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const gw = await startGateway({ CONFIG_FILE: path.join(dir, 'config.json'), MIRROR_RETRY_BASE_MS: '50', MIRROR_RETRY_MAX_MS: '100' });
  cleanups.push(() => gw.stop());
  return gw;
}

async function api(gw: TestGateway, method: string, url: string, body?: unknown, role: 'operator' | 'viewer' = 'operator'): Promise<{ status: number; json: any }> {
  const res = await fetch(`${gw.httpUrl}${url}`, {
    method,
    headers: { ...(role === 'viewer' ? gw.authHeader('viewer', ['CP-R']) : gw.authHeader()), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('Mirror upstreams over REST', () => {
  it('adds a wss:// mirror with its own CA, Basic auth and rename to a connected station, changes and removes it; CONFIG_FILE mirrors are read-only', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-mirror-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
    const secure = await mirrorCs({ tls: { cert: readFileSync(`${dir}/cert.pem`), key: readFileSync(`${dir}/key.pem`) }, basicAuth: { user: 'shadow-user', password: 'mirror-pass-1234' } });
    const plain = await mirrorCs();
    const gw = await gateway({ mirrors: [{ id: 'cfg', url: plain.url, stations: ['CP-OTHER'] }] });
    const st = await station(gw.wsUrl('CP-R'));
    await st.call('Heartbeat', {}, 'before');

    const created = await api(gw, 'POST', '/api/mirrors', {
      id: 'live', url: secure.url, caFile: `${dir}/cert.pem`, username: 'shadow-user', password: 'mirror-pass-1234', stations: ['CP-R'], rename: { 'CP-R': 'R1' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ id: 'live', passwordSet: true, origin: 'api', stations: ['CP-R'] });
    expect(JSON.stringify(created.json)).not.toContain('mirror-pass-1234');
    await until(() => gw.getJson<MirrorView>('/api/mirrors/live'), (m) => m.links[0]?.state === 'open');
    expect(secure.handshakes[0]).toEqual({ chargeBoxId: 'R1', authorization: `Basic ${Buffer.from('shadow-user:mirror-pass-1234').toString('base64')}` });
    await st.call('Heartbeat', {}, 'after');
    // Only calls after the mirror was added, under the renamed id; the embedded central system's answer follows.
    const got = await secure.waitFor((f) => f.frame[0] === 3 && f.frame[1] === 'after');
    expect(got.chargeBoxId).toBe('R1');
    expect(secure.received.map((f) => [f.frame[0], f.frame[1]])).toEqual([[2, 'after'], [3, 'after']]);
    expect(plain.received).toEqual([]);
    // Kept with mode 0600, password included (it must be presented after a restart).
    const file = path.join(gw.dataDir, 'mirrors', 'mirrors.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))[0]).toMatchObject({ id: 'live', password: 'mirror-pass-1234' });

    const patched = await api(gw, 'PATCH', '/api/mirrors/live', { rename: null, answers: false });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ answers: false, rename: {}, passwordSet: true });
    await until(() => secure.handshakes.length, (n) => n === 2);
    expect(secure.handshakes[1]?.chargeBoxId).toBe('CP-R');
    await until(() => gw.getJson<MirrorView>('/api/mirrors/live'), (m) => m.links[0]?.state === 'open');
    await st.call('Heartbeat', {}, 'patched');
    await secure.waitFor((f) => f.chargeBoxId === 'CP-R' && f.frame[1] === 'patched');
    await st.call('Heartbeat', {}, 'patched-2');
    await secure.waitFor((f) => f.chargeBoxId === 'CP-R' && f.frame[1] === 'patched-2');
    expect(secure.received.filter((f) => f.chargeBoxId === 'CP-R').map((f) => f.frame[0])).toEqual([2, 2]);

    const list = await api(gw, 'GET', '/api/mirrors');
    expect(list.json.mirrors.map((m: MirrorView) => [m.id, m.origin])).toEqual([['cfg', 'config'], ['live', 'api']]);
    expect(await api(gw, 'DELETE', '/api/mirrors/cfg')).toMatchObject({ status: 409, json: { error: { code: 'read_only' } } });
    expect(await api(gw, 'GET', '/api/mirrors', undefined, 'viewer')).toMatchObject({ status: 403, json: { error: {} } });
    expect(await api(gw, 'POST', '/api/mirrors', { id: 'bad', url: 'ws://user:pw@127.0.0.1:1/x' })).toMatchObject({ status: 400, json: { error: { code: 'bad_request', message: expect.stringMatching(/credentials/) } } });
    expect(await api(gw, 'POST', '/api/mirrors', { id: 'live', url: plain.url })).toMatchObject({ status: 400, json: { error: { code: 'bad_request' } } });
    expect(await api(gw, 'GET', '/api/mirrors/nope')).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });

    expect((await api(gw, 'DELETE', '/api/mirrors/live')).status).toBe(204);
    await st.call('Heartbeat', {}, 'removed');
    expect(secure.received.some((f) => f.frame[1] === 'removed')).toBe(false);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
  });

  it('sends what a mirror missed while it was down, in order, once it is back', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const gw = await gateway({ mirrors: [{ id: 'late', url: `ws://127.0.0.1:${port}/mirror` }] });
    const st = await station(gw.wsUrl('CP-L'));
    for (let i = 0; i < 20; i++) await st.call('Heartbeat', {}, `m${i}`);
    const down = await until(() => gw.getJson<MirrorView>('/api/mirrors/late'), (m) => (m.links[0]?.reconnects ?? 0) > 0);
    expect(down.links[0]).toMatchObject({ queued: 40, dropped: 0 });
    expect(down.summary.lagMs).toBeGreaterThan(0);

    const mirror = await mirrorCs({ port });
    await mirror.waitFor((f) => f.frame[0] === 3 && f.frame[1] === 'm19');
    const expected = Array.from({ length: 20 }, (_, i) => [[2, `m${i}`], [3, `m${i}`]]).flat();
    expect(mirror.received.map((f) => [f.frame[0], f.frame[1]])).toEqual(expected);
    const caughtUp = await until(() => gw.getJson<MirrorView>('/api/mirrors/late'), (m) => m.links[0]?.queued === 0);
    expect(caughtUp.links[0]).toMatchObject({ state: 'open', lagMs: 0, sent: 40 });
  });
});
