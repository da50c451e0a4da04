// /api/webhooks: operator-only CRUD; the secret is shown once, then only as a fingerprint; CONFIG_FILE entries are read-only.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SubscriptionView } from '../../src/webhooks/index.js';
import { startGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { startReceiver } from './receiver.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(fn: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('/api/webhooks', () => {
  it('creates, shows, changes and deletes subscriptions; secrets never come back', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-hooks-rest-'));
    const cfg = path.join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ webhooks: [{ id: 'fixed', url: rx.url, secret: 'config-secret-0123456789', types: ['bootNotification'] }] }));
    const gw = await startGateway({ CONFIG_FILE: cfg });
    cleanups.push(() => gw.stop());
    const call = async (method: string, p: string, body?: unknown, role: 'operator' | 'viewer' = 'operator') => {
      const res = await fetch(`${gw.httpUrl}/api/webhooks${p}`, {
        method,
        headers: { ...(role === 'viewer' ? gw.authHeader('viewer', ['REST-1']) : gw.authHeader()), 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>) };
    };

    expect((await call('GET', '', undefined, 'viewer')).status).toBe(403);
    const bad = await call('POST', '', { url: 'ftp://x', types: ['status'] });
    expect(bad.status).toBe(400);
    expect(String((bad.body!.error as { message: string }).message)).toContain('http:// or https://');
    expect((await call('POST', '', { url: rx.url, types: ['nope'] })).status).toBe(400);

    const created = await call('POST', '', { id: 'mine', url: rx.url, types: ['status'], stations: ['REST-1'], actions: ['StatusNotification'] });
    expect(created.status).toBe(201);
    const secret = created.body!.secret as string;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const shown = await call('GET', '/mine');
    expect(shown.body).toMatchObject({ id: 'mine', types: ['status'], stations: ['REST-1'], origin: 'api' });
    expect(JSON.stringify((await call('GET', '')).body)).not.toContain(secret);
    expect(JSON.stringify((await call('GET', '')).body)).not.toContain('config-secret-0123456789');
    // Kept for restarts, readable only by the gateway's user.
    const kept = path.join(gw.dataDir, 'webhooks', 'subscriptions.json');
    expect(statSync(kept).mode & 0o077).toBe(0);
    expect(readFileSync(kept, 'utf8')).toContain(secret);

    const st = await connectStation(gw.wsUrl('REST-1'));
    cleanups.push(() => st.close());
    await st.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    await until(() => rx.requests.some((r) => r.headers['x-chargebridge-subscription'] === 'mine'));
    const req = rx.requests.find((r) => r.headers['x-chargebridge-subscription'] === 'mine')!;
    expect(req.headers['x-chargebridge-signature']).toBe(`sha256=${createHmac('sha256', secret).update(req.body).digest('hex')}`);

    const patched = await call('PATCH', '/mine', { types: 'all', secret: 'a-brand-new-secret-value' });
    expect(patched.status).toBe(200);
    expect(patched.body!.types).toBe('all');
    expect(patched.body!.secretFingerprint).not.toBe(shown.body!.secretFingerprint);
    expect((await call('PATCH', '/fixed', { types: 'all' })).status).toBe(409);
    expect((await call('DELETE', '/fixed')).status).toBe(409);
    expect((await call('DELETE', '/mine')).status).toBe(204);
    expect((await call('GET', '/mine')).status).toBe(404);
    expect(((await call('GET', '')).body!.subscriptions as SubscriptionView[]).map((s) => s.id)).toEqual(['fixed']);
  });

  it('never writes a secret to the log, even at trace level and with failing deliveries', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    rx.answer = 500;
    let logged = '';
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { logged += chunk.toString(); done(); } });
    const gw = await startGateway({ WEBHOOKS_RETRY_BASE_MS: '20', WEBHOOKS_MAX_ATTEMPTS: '2' }, { logger: pino({ level: 'trace' }, sink) });
    cleanups.push(() => gw.stop());
    const res = await fetch(`${gw.httpUrl}/api/webhooks`, {
      method: 'POST',
      headers: { ...gw.authHeader(), 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'logged', url: rx.url.replace('http://', 'http://user:urlpassword@'), types: 'all' }),
    });
    const { secret } = (await res.json()) as { secret: string };
    const st = await connectStation(gw.wsUrl('LOG-1'));
    cleanups.push(() => st.close());
    await st.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    await until(() => rx.requests.length >= 2);
    // Credentials in the URL travel as HTTP Basic auth (fetch takes no URL with credentials).
    expect(rx.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('user:urlpassword').toString('base64')}`);
    await until(() => logged.includes('webhook subscription created'));
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain('urlpassword');
    const view = await gw.getJson<SubscriptionView>('/api/webhooks/logged');
    expect(view.url).not.toContain('urlpassword');
  });

  it('refuses a CONFIG_FILE entry without id or secret at start, naming the entry', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-hooks-rest-'));
    const cfg = path.join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ webhooks: [{ url: 'http://127.0.0.1:1/x', secret: 'config-secret-0123456789' }] }));
    await expect(startGateway({ CONFIG_FILE: cfg })).rejects.toThrow(/webhooks\[0\]\.id is required/);
    writeFileSync(cfg, JSON.stringify({ webhooks: [{ id: 'x', url: 'http://127.0.0.1:1/x' }] }));
    await expect(startGateway({ CONFIG_FILE: cfg })).rejects.toThrow(/webhooks\[0\]\.secret is required/);
  });
});
