// /api/health reports memory: RSS, heap, the documented ceiling (base + GC factor × budgets, per-station budgets
// at the peak station count), the budgets, their use and their drops. Through a real gateway: a station bursting
// frames at a message log with a small byte budget makes it drop entries (never frames), counted and visible.
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryHealth } from '../../src/metrics/memory.js';
import { BASE_RSS_BYTES, GC_FACTOR } from '../../src/metrics/memory.js';
import { DECODER_MEMORY_BYTES } from '../../src/relay/frame-decoder.js';
import { YOUNG_GENERATION_EXTRA_BYTES } from '../../src/node-flags.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';

const MiB = 1024 * 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const memoryOf = async (gw: TestGateway): Promise<MemoryHealth> => (await gw.getJson<{ memory: MemoryHealth }>('/api/health')).memory;

describe('memory in /api/health', () => {
  it('reports RSS, heap and a ceiling that sums the budgets, growing with the peak station count', async () => {
    const gw = await startGateway();
    cleanups.push(() => gw.stop());
    const idle = await memoryOf(gw);
    expect(idle.rssBytes).toBeGreaterThan(0);
    expect(idle.heapUsedBytes).toBeGreaterThan(0);
    expect(idle.peakRssBytes).toBeGreaterThanOrEqual(idle.rssBytes);
    expect(idle.budgets.global).toEqual({ observerQueueBytes: 16 * MiB, messageLogQueueBytes: 64 * MiB, eventHistoryBytes: 256 * MiB });
    expect(idle.budgets.perStation).toEqual({ upstreamQueueBytes: 32 * MiB, frameInFlightBytes: 24 * MiB, inboxBytes: 18 * MiB });
    expect(idle.ceiling.peakStations).toBe(0);
    expect(idle.ceilingBytes).toBe(BASE_RSS_BYTES + YOUNG_GENERATION_EXTRA_BYTES + DECODER_MEMORY_BYTES + GC_FACTOR * (16 + 64 + 256) * MiB);

    const a = await connectStation(gw.wsUrl('CP-A'));
    const b = await connectStation(gw.wsUrl('CP-B'));
    await a.call('Heartbeat', {});
    await b.call('Heartbeat', {});
    a.close();
    b.close();
    await a.closed;
    await b.closed;
    let after = await memoryOf(gw);
    for (const deadline = Date.now() + 10_000; after.ceiling.peakStations < 2 && Date.now() < deadline; ) after = await memoryOf(gw);
    // Peaks stay: the ceiling read after a run covers the run.
    expect(after.ceiling.peakStations).toBe(2);
    expect(after.ceilingBytes).toBe(idle.ceilingBytes + GC_FACTOR * 2 * 74 * MiB);
    expect(after.rssBytes).toBeLessThan(after.ceilingBytes);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    expect(metrics).toMatch(new RegExp(`^chargebridge_memory_ceiling_bytes ${after.ceilingBytes}$`, 'm'));
  });

  it('the message log drops entries by bytes when the writer is behind: counted in health and metrics, frames still answered', async () => {
    const gw = await startGateway({ MESSAGE_LOG_QUEUE_BYTES: String(64 * 1024) });
    cleanups.push(() => gw.stop());
    const st = await connectStation(gw.wsUrl('CP-BURST'));
    cleanups.push(() => st.close());
    const data = 'd'.repeat(10_000);
    // Sent back to back: the writer holds a small batch for a moment, so the budget (about one such entry) fills.
    for (let i = 0; i < 30; i++) st.sendRaw(JSON.stringify([2, `burst-${i}`, 'DataTransfer', { vendorId: 'x', data }]));
    await st.waitFor((f) => f[1] === 'burst-29', 20_000);
    expect(st.received.filter((f) => f[0] === 3 && String(f[1]).startsWith('burst-'))).toHaveLength(30);
    await gw.messageLog.stop(); // writes what is left: everything is now either written or dropped
    const health = await gw.getJson<{ memory: MemoryHealth; messageLog: { written: number; dropped: number; droppedForBytes: number; queuedBytes: number } }>('/api/health');
    expect(health.messageLog.droppedForBytes).toBeGreaterThan(0);
    expect(health.messageLog.queuedBytes).toBe(0);
    expect(health.memory.drops.messageLogEntriesForBytes).toBe(health.messageLog.droppedForBytes);
    expect(health.memory.budgets.global.messageLogQueueBytes).toBe(64 * 1024);
    const metrics = await (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    expect(metrics).toMatch(/^chargebridge_memory_budget_drops\{budget="messageLogEntriesForBytes"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^chargebridge_message_log_dropped_bytes_total [1-9]\d*$/m);
  }, 60_000);
});
