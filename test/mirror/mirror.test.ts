// Mirror upstreams over real sockets: station → gateway → primary (SteVe stand-in) and a second `ws` central
// system as mirror. The mirror sees every station CALL in order and the primary's answers; its answers go nowhere;
// its calls are refused unless allowed; a mirror down, refusing or stalled leaves the primary path alone.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import type { MirrorSummary, MirrorView } from '../../src/mirror/index.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { cleanups, mirrorCs, station, until } from './helpers.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';

async function setup(mirrors: unknown[], env: Record<string, string> = {}): Promise<{ steve: SteveDouble; gw: TestGateway }> {
  const steve = await startSteveDouble({ getConfigurationOnConnect: false });
  cleanups.push(() => steve.close());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-mirror-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ mirrors }));
  const gw = await startGateway({ STEVE_WS_URL: steve.url, CONFIG_FILE: path.join(dir, 'config.json'), MIRROR_RETRY_BASE_MS: '50', MIRROR_RETRY_MAX_MS: '200', ...env });
  cleanups.push(() => gw.stop());
  return { steve, gw };
}

const mirrorOf = async (gw: TestGateway, id: string): Promise<MirrorView> => gw.getJson<MirrorView>(`/api/mirrors/${id}`);

describe('Mirror upstreams', () => {
  it('a mirror sees every station CALL in order and the primary answers, while only the primary answers the station', async () => {
    const mirror = await mirrorCs();
    const { steve, gw } = await setup([
      { id: 'm1', url: mirror.url, rename: { CP1: 'CP1-shadow' }, logAnswers: true },
      { id: 'quiet', url: mirror.url, rename: { CP1: 'CP1-quiet' } },
    ]);
    const st = await station(gw.wsUrl('CP1'));
    await until(() => mirrorOf(gw, 'm1'), (m) => m.links[0]?.state === 'open');
    await until(() => mirrorOf(gw, 'quiet'), (m) => m.links[0]?.state === 'open');

    const boot = await st.call('BootNotification', { chargePointVendor: 'Rivot', chargePointModel: 'flashCharge' }, 'boot-1');
    const start = await st.call('StartTransaction', { connectorId: 1, idTag: 'TAG1', meterStart: 0, timestamp: new Date().toISOString() }, 'start-1');
    const n = 200;
    for (let i = 0; i < n; i++) st.sendRaw(JSON.stringify([2, `hb${i}`, 'Heartbeat', {}]));
    await st.waitFor((f) => f[1] === `hb${n - 1}`);
    // The primary controls the station: its call reaches the station; the mirror never sees it.
    const remote = await steve.call('CP1', 'RemoteStartTransaction', { idTag: 'TAG2' });
    expect(remote[0]).toBe(3);

    // The station got the primary's answers only (the mirror answers with 1999 and transactionId -1).
    expect((boot[2] as { status: string }).status).toBe('Accepted');
    const txId = (start[2] as { transactionId: number }).transactionId;
    expect(txId).toBeGreaterThan(0);
    expect(st.received.some((f) => JSON.stringify(f).includes('1999-01-01'))).toBe(false);

    // The mirror saw the station's calls in order, under its renamed id, each followed by the primary's answer.
    await mirror.waitFor((f) => f.frame[0] === 3 && f.frame[1] === `hb${n - 1}`);
    const seen = mirror.received.filter((f) => f.chargeBoxId === 'CP1-shadow');
    const calls = seen.filter((f) => f.frame[0] === 2).map((f) => f.frame[1]);
    expect(calls).toEqual(['boot-1', 'start-1', ...Array.from({ length: n }, (_, i) => `hb${i}`)]);
    const startAnswer = seen.find((f) => f.frame[0] === 3 && f.frame[1] === 'start-1');
    expect((startAnswer?.frame[2] as { transactionId: number }).transactionId).toBe(txId);
    expect(seen.findIndex((f) => f.frame[0] === 3 && f.frame[1] === 'start-1')).toBeGreaterThan(seen.findIndex((f) => f.frame[0] === 2 && f.frame[1] === 'start-1'));
    expect(seen.some((f) => f.frame[2] === 'RemoteStartTransaction')).toBe(false);
    expect(mirror.received.some((f) => f.chargeBoxId === 'CP1')).toBe(false);

    // Health, metrics and the mirror's own view show state, lag and drops.
    const view = await until(() => mirrorOf(gw, 'm1'), (m) => m.summary.answersDiscarded === n + 2);
    expect(view.links[0]).toMatchObject({ chargeBoxId: 'CP1', mirrorChargeBoxId: 'CP1-shadow', state: 'open', dropped: 0 });
    expect(view.links[0]?.sent).toBe(2 * (n + 2));
    const health = await gw.getJson<{ mirrors: MirrorSummary[] }>('/api/health');
    expect(health.mirrors[0]).toMatchObject({ id: 'm1', links: { open: 1 }, dropped: 0 });
    // Without logAnswers a mirror's answers are only counted.
    await until(() => mirrorOf(gw, 'quiet'), (m) => m.summary.answersDiscarded === n + 2);
    expect(typeof health.mirrors[0]?.lagMs).toBe('number');
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    expect(metrics).toMatch(/chargebridge_mirror_links\{mirror="m1",state="open"\} 1/);
    expect(metrics).toMatch(/chargebridge_mirror_dropped_total\{mirror="m1"\} 0/);
    expect(metrics).toMatch(/chargebridge_mirror_lag_seconds\{mirror="m1"\}/);

    // The message log records the mirror leg (m1's discarded answers) with disposition `mirror`; the station's real
    // session is unchanged: one transaction, from the primary's answer.
    const log = await until(
      () => gw.getJson<{ entries: LogEntry[] }>('/api/messages?chargeBoxId=CP1&disposition=mirror&limit=1000'),
      (r) => r.entries.length === n + 2,
    );
    expect(log.entries.every((e) => e.mirror === 'm1' && e.origin === 'mirror' && e.leg === 'upstream' && e.direction === 'in')).toBe(true);
    expect(log.entries.find((e) => e.messageId === 'start-1')?.problem).toMatch(/answer discarded/);
    const tx = await until(() => gw.getJson<{ events: { transactionId?: number }[] }>('/api/events?chargeBoxId=CP1&type=transactionStarted'), (r) => r.events.length > 0);
    expect(tx.events.map((e) => e.transactionId)).toEqual([txId]);
  });

  it("refuses a mirror's call with a CALLERROR and records it; an allowed action reaches the station and its answer only that mirror", async () => {
    const mirror = await mirrorCs();
    const { steve, gw } = await setup([{ id: 'm2', url: mirror.url, allowActions: ['GetConfiguration'] }]);
    const st = await station(gw.wsUrl('CP2'), { autoAnswer: false });
    await until(() => mirrorOf(gw, 'm2'), (m) => m.links[0]?.state === 'open');

    mirror.send('CP2', [2, 'mx-1', 'Reset', { type: 'Hard' }]);
    const refused = await mirror.waitFor((f) => f.frame[1] === 'mx-1');
    expect(refused.frame[0]).toBe(4);
    expect(refused.frame[2]).toBe('SecurityError');
    expect(String(refused.frame[3])).toMatch(/read-only.*Reset/);

    mirror.send('CP2', [2, 'mx-2', 'GetConfiguration', { key: ['HeartbeatInterval'] }]);
    const atStation = await st.waitFor((f) => f[0] === 2 && f[2] === 'GetConfiguration');
    expect(atStation[3]).toEqual({ key: ['HeartbeatInterval'] });
    const key = { key: 'AuthorizationKey', readonly: false, value: 'station-key-0123456789abcdef' };
    st.sendRaw(JSON.stringify([3, atStation[1], { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '60' }, key] }]));
    const answer = await mirror.waitFor((f) => f.frame[1] === 'mx-2');
    // Like an operator's call, a mirror never gets the station's key.
    expect(answer.frame).toEqual([3, 'mx-2', { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '60' }, { ...key, value: '[redacted]' }] }]);
    // The station never saw Reset; the primary never saw the mirror's call or its answer.
    expect(st.received.some((f) => f[2] === 'Reset')).toBe(false);
    expect(steve.received.some((f) => f.frame[1] === atStation[1] || f.frame[1] === 'mx-2')).toBe(false);

    const view = await mirrorOf(gw, 'm2');
    expect(view.summary).toMatchObject({ callsRefused: 1, callsRelayed: 1 });
    const log = await until(
      () => gw.getJson<{ entries: LogEntry[] }>('/api/messages?chargeBoxId=CP2&disposition=mirror'),
      (r) => r.entries.length === 4,
    );
    const byIdDir = (id: string, dir: string) => log.entries.find((e) => e.messageId === id && e.direction === dir);
    expect(byIdDir('mx-1', 'in')?.problem).toMatch(/call refused \(Reset is not in allowActions\)/);
    expect(byIdDir('mx-1', 'out')).toMatchObject({ origin: 'gateway', messageType: 'CALLERROR', mirror: 'm2' });
    expect(byIdDir('mx-2', 'in')?.problem).toMatch(/relayed to the station/);
    expect(byIdDir('mx-2', 'out')).toMatchObject({ origin: 'station', messageType: 'CALLRESULT' });
    expect(JSON.stringify(log.entries)).not.toContain(key.value);
  });

  it('a mirror that is down, refuses the login or stops reading has no effect on the primary path', async () => {
    const stalled = await mirrorCs({ stall: true });
    const guarded = await mirrorCs({ basicAuth: { user: 'CP3', password: 'mirror-secret-1' } });
    const { steve, gw } = await setup([
      { id: 'down', url: 'ws://127.0.0.1:1/nothing' },
      { id: 'refusing', url: guarded.url, password: 'wrong-password' },
      { id: 'slow', url: stalled.url, queueBytes: 256 * 1024 },
    ]);
    const st = await station(gw.wsUrl('CP3'));
    const health = (): Promise<{ mirrors: MirrorSummary[] }> => gw.getJson('/api/health');
    await until(health, (h) => h.mirrors.find((m) => m.id === 'slow')?.links.open === 1 && (h.mirrors.find((m) => m.id === 'down')?.reconnects ?? 0) > 0);

    // A burst of 100 frames of 64 KiB: faster than the stalled mirror's socket takes them, so its queue fills.
    const filler = 'x'.repeat(64 * 1024);
    const n = 100;
    for (let i = 0; i < n; i++) st.sendRaw(JSON.stringify([2, `big${i}`, 'DataTransfer', { vendorId: 'bench', data: filler }]));
    await st.waitFor((f) => f[1] === `big${n - 1}`, 20_000);
    const ids = steve.received.filter((f) => f.chargeBoxId === 'CP3').map((f) => f.frame[1]);
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => `big${i}`));
    expect(st.received.filter((f) => f[0] === 3).length).toBe(n);
    expect(st.ws.readyState).toBe(st.ws.OPEN);
    const rtt = performance.now();
    await st.call('Heartbeat', {}, 'after');
    expect(performance.now() - rtt).toBeLessThan(1000);

    const h = await health();
    const slow = h.mirrors.find((m) => m.id === 'slow');
    expect(slow?.dropped).toBeGreaterThan(0);
    expect(slow?.queuedBytes).toBeLessThanOrEqual(256 * 1024);
    // The mirror that is down holds what it has not been sent, and says how old the oldest frame is.
    const down = await mirrorOf(gw, 'down');
    expect(down.links[0]?.state).not.toBe('open');
    expect(down.summary.lagMs).toBeGreaterThan(0);
    expect(down.summary.queuedBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(down.summary.dropped).toBeGreaterThan(0);
    expect(down.links[0]?.lastError).toMatch(/ECONNREFUSED/);
    const refusing = await mirrorOf(gw, 'refusing');
    expect(refusing.links[0]?.lastError).toMatch(/HTTP 401/);
    expect(refusing.passwordSet).toBe(true);
    expect(JSON.stringify(refusing)).not.toContain('wrong-password');
    expect(guarded.handshakes[0]?.authorization).toBe(`Basic ${Buffer.from('CP3:wrong-password').toString('base64')}`);
  });
});
