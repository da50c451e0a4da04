// Webhooks end to end: a real station's frames → the real gateway's events → POSTs to a real HTTP receiver.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import type { SubscriptionView } from '../../src/webhooks/index.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { startReceiver, type Receiver } from './receiver.js';

const SECRET = 'a-test-secret-of-some-length';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until<T>(fn: () => T | undefined | false, ms = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function untilAsync<T>(fn: () => Promise<T | undefined | false>, ms = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what} not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function configFile(webhooks: unknown[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-hooks-cfg-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ webhooks }));
  return file;
}

const FAST = { WEBHOOKS_RETRY_BASE_MS: '50', WEBHOOKS_RETRY_MAX_MS: '200', WEBHOOKS_TIMEOUT_MS: '2000' };

async function gatewayWith(rx: Receiver, env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startGateway({
    CONFIG_FILE: configFile([{ id: 'rx', url: rx.url, secret: SECRET, types: ['status'], ...extra }]),
    ...FAST,
    ...env,
  });
  cleanups.push(() => gw.stop());
  return gw;
}

async function station(gw: TestGateway, id: string): Promise<StationClient> {
  const st = await connectStation(gw.wsUrl(id));
  cleanups.push(() => st.close());
  return st;
}

async function statuses(st: StationClient, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await st.call('StatusNotification', { connectorId: 1, status: i % 2 === 0 ? 'Preparing' : 'Charging', errorCode: 'NoError', info: `n${i}`, timestamp: new Date().toISOString() });
  }
}

const infos = (rx: Receiver, station?: string): string[] =>
  rx.requests
    .map((r) => JSON.parse(r.body) as GatewayEvent<'status'>)
    .filter((e) => station === undefined || e.chargeBoxId === station)
    .map((e) => e.data.info ?? '');

/** First occurrence of each event id, in arrival order (at-least-once: a receiver de-duplicates by id). */
function deduped(rx: Receiver): GatewayEvent<'status'>[] {
  const seen = new Set<string>();
  const out: GatewayEvent<'status'>[] = [];
  for (const r of rx.requests) {
    const e = JSON.parse(r.body) as GatewayEvent<'status'>;
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    out.push(e);
  }
  return out;
}

describe('webhook delivery', () => {
  it('POSTs events in order per station, signed with HMAC-SHA256 of the exact body, with the event id', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const gw = await gatewayWith(rx);
    const [a, b] = [await station(gw, 'HOOK-A'), await station(gw, 'HOOK-B')];
    await Promise.all([statuses(a, 15), statuses(b, 15)]);
    await until(() => rx.requests.length >= 30, 15_000, '30 deliveries');

    const expected = Array.from({ length: 15 }, (_, i) => `n${i}`);
    expect(infos(rx, 'HOOK-A')).toEqual(expected);
    expect(infos(rx, 'HOOK-B')).toEqual(expected);
    for (const r of rx.requests) {
      const e = JSON.parse(r.body) as GatewayEvent;
      expect(e.type).toBe('status');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-chargebridge-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
      expect(r.headers['x-chargebridge-event-id']).toBe(e.id);
      expect(r.headers['x-chargebridge-subscription']).toBe('rx');
      expect(Math.abs(Number(r.headers['x-chargebridge-timestamp']) - Date.now() / 1000)).toBeLessThan(120);
    }
    // Seq per station increases (the event stream's own order).
    const seqs = deduped(rx).filter((e) => e.chargeBoxId === 'HOOK-A').map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));

    // The receiver records a request before it answers: wait for the gateway to have read the last answer.
    const view = await untilAsync(async () => {
      const v = await gw.getJson<SubscriptionView>('/api/webhooks/rx');
      return v.delivery.delivered === 30 ? v : undefined;
    }, 10_000, 'thirty counted');
    expect(view.delivery).toMatchObject({ delivered: 30, failed: 0, dead: 0, queued: 0, dropped: 0 });
    expect(view.delivery.latencyMs.avg).not.toBeNull();
    expect(view.secretFingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(JSON.stringify(await gw.getJson('/api/webhooks'))).not.toContain(SECRET);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    expect(metrics).toMatch(/chargebridge_webhook_delivered_total\{subscription="rx"\} 30/);
    expect(metrics).toMatch(/chargebridge_webhook_delivery_seconds_count\{subscription="rx"\} 30/);
  });

  it('keeps one POST in flight per station, and delivers other stations in parallel up to WEBHOOKS_CONCURRENCY', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const gw = await gatewayWith(rx, { WEBHOOKS_CONCURRENCY: '2' });
    // HOOK-S1 and HOOK-S2 are held at the receiver; HOOK-S3 would be third in parallel.
    rx.hold = (body) => /"chargeBoxId":"HOOK-S[12]"/.test(body);
    const [s1, s2, s3] = [await station(gw, 'HOOK-S1'), await station(gw, 'HOOK-S2'), await station(gw, 'HOOK-S3')];
    await statuses(s1, 3);
    await statuses(s2, 3);
    await until(() => rx.held() === 2, 10_000, 'two held POSTs');
    await statuses(s3, 2);
    // Give the gateway ample time to (wrongly) send more: a second POST for S1/S2, or S3 beyond the limit.
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.requests.map((r) => (JSON.parse(r.body) as GatewayEvent).chargeBoxId).sort()).toEqual(['HOOK-S1', 'HOOK-S2']);
    rx.release();
    await until(() => rx.requests.length >= 8, 10_000, 'all eight delivered');
    for (const id of ['HOOK-S1', 'HOOK-S2']) expect(infos(rx, id)).toEqual(['n0', 'n1', 'n2']);
    expect(infos(rx, 'HOOK-S3')).toEqual(['n0', 'n1']);
  });

  it('retries across a receiver outage and a gateway restart in the middle of it, losing nothing', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    rx.answer = 503;
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-hooks-data-'));
    const cfg = configFile([{ id: 'rx', url: rx.url, secret: SECRET, types: ['status'] }]);
    const env = { ...FAST, CONFIG_FILE: cfg, DATA_DIR: dataDir, WEBHOOKS_MAX_ATTEMPTS: '1000' };
    let gw = await startGateway(env);
    let st = await connectStation(gw.wsUrl('HOOK-R'));
    await statuses(st, 5);
    const during = await untilAsync(async () => {
      const v = await gw.getJson<SubscriptionView>('/api/webhooks/rx');
      return v.delivery.failed >= 3 && v.delivery.queued === 5 ? v : undefined;
    }, 15_000, 'five queued, three failed attempts');
    expect(during.delivery.delivered).toBe(0);
    st.close();
    await gw.stop();

    // Restart while the receiver is still down, then a few more events; then it comes back.
    gw = await startGateway(env);
    cleanups.push(() => gw.stop());
    st = await connectStation(gw.wsUrl('HOOK-R'));
    cleanups.push(() => st.close());
    expect((await gw.getJson<SubscriptionView>('/api/webhooks/rx')).delivery.queued).toBeGreaterThanOrEqual(5);
    await statuses(st, 3, 5);
    rx.answer = 200;
    await until(() => deduped(rx).length >= 8, 20_000, 'all eight delivered');
    expect(deduped(rx).map((e) => e.data.info)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']);
    await untilAsync(async () => (await gw.getJson<SubscriptionView>('/api/webhooks/rx')).delivery.queued === 0, 10_000, 'queue empty');
  });

  it('moves an event to the dead-letter list after N attempts, and at once on a 4xx; re-delivers and clears over REST', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    rx.answer = 500;
    const gw = await gatewayWith(rx, { WEBHOOKS_MAX_ATTEMPTS: '3' });
    const st = await station(gw, 'HOOK-D');
    await statuses(st, 1);
    const dead = await untilAsync(async () => {
      const v = await gw.getJson<SubscriptionView>('/api/webhooks/rx');
      return v.delivery.dead === 1 ? v : undefined;
    }, 15_000, 'one dead letter');
    expect(rx.requests).toHaveLength(3);
    expect(rx.requests.map((r) => r.headers['x-chargebridge-attempt'])).toEqual(['1', '2', '3']);
    expect(dead.delivery).toMatchObject({ failed: 3, queued: 0, lastError: 'HTTP 500' });

    // A 4xx other than 408/429: the receiver will never take it, so no retry.
    rx.answer = 422;
    await statuses(st, 1, 1);
    await untilAsync(async () => (await gw.getJson<SubscriptionView>('/api/webhooks/rx')).delivery.dead === 2, 15_000, 'second dead letter');
    expect(rx.requests).toHaveLength(4);
    const list = await gw.getJson<{ deadLetters: { key: number; attempts: number; lastError: string; event: GatewayEvent<'status'> }[] }>('/api/webhooks/rx/dead-letters');
    expect(list.deadLetters.map((d) => [d.event.data.info, d.attempts])).toEqual([['n0', 3], ['n1', 1]]);
    expect(list.deadLetters[1]!.lastError).toContain('not retried');

    rx.answer = 200;
    const post = (p: string, body: unknown, method = 'POST') =>
      fetch(`${gw.httpUrl}${p}`, { method, headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const again = await post('/api/webhooks/rx/dead-letters/redeliver', { keys: [list.deadLetters[0]!.key] });
    expect(await again.json()).toEqual({ requeued: 1 });
    await until(() => rx.requests.length === 5, 10_000, 're-delivery');
    expect(JSON.parse(rx.requests[4]!.body)).toMatchObject({ data: { info: 'n0' } });
    const cleared = await post('/api/webhooks/rx/dead-letters', {}, 'DELETE');
    expect(await cleared.json()).toEqual({ cleared: 1 });
    await untilAsync(async () => (await gw.getJson<SubscriptionView>('/api/webhooks/rx')).delivery.delivered === 1, 10_000, 'one delivered');
    expect((await gw.getJson<SubscriptionView>('/api/webhooks/rx')).delivery).toMatchObject({ dead: 0, queued: 0 });
  });

  it('retries 408 and 429 (the receiver asks for later) instead of giving up', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    rx.answer = 429;
    const gw = await gatewayWith(rx, { WEBHOOKS_MAX_ATTEMPTS: '50' });
    const st = await station(gw, 'HOOK-L');
    await statuses(st, 1);
    await until(() => rx.requests.length >= 2, 10_000, 'two 429s');
    rx.answer = 408;
    await until(() => rx.requests.length >= 4, 10_000, 'two 408s');
    rx.answer = 200;
    const v = await untilAsync(async () => {
      const s = await gw.getJson<SubscriptionView>('/api/webhooks/rx');
      return s.delivery.delivered === 1 ? s : undefined;
    }, 10_000, 'delivered after the receiver said later');
    expect(v.delivery.dead).toBe(0);
    expect(v.delivery.failed).toBeGreaterThanOrEqual(4);
    expect(new Set(rx.requests.map((r) => r.headers['x-chargebridge-event-id'])).size).toBe(1);
  });

  it('drops events beyond the byte budget, and counts and shows the drops', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    rx.answer = 503;
    const gw = await gatewayWith(rx, { WEBHOOKS_QUEUE_BYTES: '1024', WEBHOOKS_RETRY_BASE_MS: '60000', WEBHOOKS_RETRY_MAX_MS: '60000' });
    const st = await station(gw, 'HOOK-B');
    await statuses(st, 12);
    const v = await untilAsync(async () => {
      const s = await gw.getJson<SubscriptionView>('/api/webhooks/rx');
      return s.delivery.queued + s.delivery.dropped === 12 ? s : undefined;
    }, 10_000, 'all twelve queued or dropped');
    expect(v.delivery.dropped).toBeGreaterThan(0);
    expect(v.delivery.queuedBytes).toBeLessThanOrEqual(1024);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    expect(metrics).toContain(`chargebridge_webhook_dropped_total{subscription="rx"} ${v.delivery.dropped}`);
    const health = await gw.getJson<{ webhooks: { dropped: number } }>('/api/health');
    expect(health.webhooks.dropped).toBe(v.delivery.dropped);
  });
});
