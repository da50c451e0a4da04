// The mirror links live in a worker thread: when it crashes or stalls, the relay goes on relaying, the worker is
// restarted (counted in health and metrics) and the mirrors reconnect and follow the station again; the copies the
// failed worker never sent are counted as dropped.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MirrorSummary, MirrorView } from '../../src/mirror/index.js';
import { startGateway } from '../support/gateway.js';
import { startSteveDouble } from '../support/steve-double.js';
import { cleanups, mirrorCs, station, until } from './helpers.js';

describe('Mirror worker', () => {
  it('a crash or a stall of the mirror worker is survived: the station keeps its primary path, the worker restarts, the mirror follows again', async () => {
    const mirror = await mirrorCs();
    const steve = await startSteveDouble({ getConfigurationOnConnect: false });
    cleanups.push(() => steve.close());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-mirror-worker-'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ mirrors: [{ id: 'w1', url: mirror.url }] }));
    const gw = await startGateway({
      STEVE_WS_URL: steve.url, CONFIG_FILE: path.join(dir, 'config.json'),
      MIRROR_RETRY_BASE_MS: '50', MIRROR_RETRY_MAX_MS: '200', MIRROR_STATS_MS: '100', MIRROR_WORKER_STALL_MS: '1000',
    });
    cleanups.push(() => gw.stop());
    const st = await station(gw.wsUrl('CPW'));
    const view = (): Promise<MirrorView> => gw.getJson<MirrorView>('/api/mirrors/w1');
    const health = async (): Promise<MirrorSummary> => (await gw.getJson<{ mirrors: MirrorSummary[] }>('/api/health')).mirrors[0]!;
    await until(view, (m) => m.links[0]?.state === 'open', 20_000);
    await st.call('Heartbeat', {}, 'before');
    await mirror.waitFor((f) => f.frame[0] === 3 && f.frame[1] === 'before');
    expect((await health()).workerRestarts).toBe(0);

    for (const [n, kind] of [[1, 'crash'], [2, 'stall']] as const) {
      gw.mirrors.injectWorkerFault(kind);
      // While the worker is down (or stuck), the station's calls are relayed and answered as usual.
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        const answer = await st.call('Heartbeat', {}, `${kind}-${i}`);
        expect(answer[0]).toBe(3);
        expect(performance.now() - t).toBeLessThan(1000);
        await new Promise((r) => setTimeout(r, 50));
      }
      const h = await until(health, (m) => m.workerRestarts === n && m.links.open === 1, 20_000);
      expect(h.id).toBe('w1');
      expect(gw.mirrors.worker()).toMatchObject({ state: 'running', restarts: n });
      expect(gw.mirrors.worker().lastFailure).toMatch(kind === 'crash' ? /failed|exited/ : /did not report/);
      // The new worker's link follows the station again.
      await st.call('Heartbeat', {}, `after-${kind}`);
      await mirror.waitFor((f) => f.frame[0] === 3 && f.frame[1] === `after-${kind}`, 10_000);
    }
    const ids = steve.received.filter((f) => f.chargeBoxId === 'CPW').map((f) => f.frame[1]);
    expect(ids.filter((id) => String(id).startsWith('crash-') || String(id).startsWith('stall-'))).toHaveLength(40);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    expect(metrics).toMatch(/chargebridge_mirror_worker_restarts_total 2/);
    // Nothing lost uncounted: each of the 40 calls and its answer (80 copies) reached the mirror or counts as
    // dropped, in health and in Prometheus (at least once: one sent after the worker's last report may be in both).
    await gw.mirrors.refresh();
    const dropped = (await health()).dropped;
    const reached = mirror.received.filter((f) => f.chargeBoxId === 'CPW' && /^(crash|stall)-/.test(String(f.frame[1]))).length;
    expect(dropped + reached).toBeGreaterThanOrEqual(80);
    const after = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    expect(after).toMatch(/chargebridge_mirror_worker_dropped_total\{cause="unacknowledged"\} [1-9]/);
    expect(after).toMatch(new RegExp(`chargebridge_mirror_dropped_total\\{mirror="w1"\\} ${dropped}\\b`));
  });
});
