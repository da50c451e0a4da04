// The old generation's growth (src/heap-growth.ts): 4× the live heap while twice that fits the room the memory
// ceiling leaves, less with less room, V8's own rule below 2×; the gateway process reports what it set.
import { afterAll, describe, expect, it } from 'vitest';
import { growthPercent, HeapGrowth, MAX_GROWTH_PERCENT } from '../src/heap-growth.js';
import { createGatewayHome, startGatewayProcess, type GatewayProcess } from '../scripts/fuzz/gateway-process.js';

const MB = 1024 * 1024;

describe('growthPercent', () => {
  it('gives 4× to a small heap with room, less as the heap nears the room, and V8\'s own rule below 2×', () => {
    expect(growthPercent(30 * MB, 1600 * MB)).toBe(MAX_GROWTH_PERCENT);
    // 2 × 250 MB × 3.2 = 1,600 MB: 3.2× fits.
    expect(growthPercent(250 * MB, 1600 * MB)).toBe(220);
    expect(growthPercent(400 * MB, 1600 * MB)).toBe(100);
    expect(growthPercent(401 * MB, 1600 * MB)).toBe(0);
    expect(growthPercent(2000 * MB, 1600 * MB)).toBe(0);
  });

  it('keeps an operator\'s cap under 2× while the room allows it', () => {
    expect(growthPercent(30 * MB, 1600 * MB, 50)).toBe(50);
    expect(growthPercent(400 * MB, 1600 * MB, 50)).toBe(50);
    expect(growthPercent(600 * MB, 1600 * MB, 50)).toBe(0); // 1.33× fits: under the cap's 1.5×, V8's own rule
    expect(growthPercent(30 * MB, 1600 * MB, 0)).toBe(0);
  });

  it('leaves V8 its own rule when the readings make no sense', () => {
    expect(growthPercent(0, 1600 * MB)).toBe(0);
    expect(growthPercent(30 * MB, -5)).toBe(0);
    expect(growthPercent(Number.NaN, 1600 * MB)).toBe(0);
  });
});

describe('HeapGrowth', () => {
  it('tells V8 only when the growth changes, counts the changes, and gives V8 its rule back on close', () => {
    const flags: string[] = [];
    let usage = { rss: 200 * MB, heapTotal: 60 * MB, heapUsed: 30 * MB };
    const growth = new HeapGrowth({ ceilingBytes: () => 1000 * MB, setFlags: (f) => flags.push(f), memoryUsage: () => usage, sampleMs: 3_600_000 });
    // Room: 1,000 − (200 − 60) = 860 MB; 2 × 30 × 4 = 240 fits.
    expect(flags).toEqual(['--heap-growing-percent=300']);
    growth.sample();
    expect(flags).toHaveLength(1);
    usage = { rss: 500 * MB, heapTotal: 360 * MB, heapUsed: 200 * MB };
    growth.sample(); // room 860 MB, 860 / 400 = 2.15×
    usage = { rss: 700 * MB, heapTotal: 560 * MB, heapUsed: 500 * MB };
    growth.sample(); // room 860 MB, 0.86×: V8's own rule
    expect(flags).toEqual(['--heap-growing-percent=300', '--heap-growing-percent=115', '--heap-growing-percent=0']);
    expect(growth.stats()).toEqual({ growthPercent: 0, changes: 2 });
    usage = { rss: 200 * MB, heapTotal: 60 * MB, heapUsed: 30 * MB };
    growth.sample();
    growth.close();
    expect(flags.slice(-2)).toEqual(['--heap-growing-percent=300', '--heap-growing-percent=0']);
  });
});

describe('the gateway process', () => {
  let gw: GatewayProcess | undefined;
  const home = createGatewayHome();
  afterAll(async () => {
    await gw?.stop();
    home.remove();
  });

  it('sets the growth from its memory ceiling and shows it in /api/health', async () => {
    gw = await startGatewayProcess('src', home, {});
    const health = (await gw.health()) as { memory: { ceilingBytes: number; heapUsedBytes: number; heapGrowth?: { growthPercent: number } } } | undefined;
    expect(health?.memory.heapGrowth?.growthPercent).toBe(MAX_GROWTH_PERCENT);
    expect(health!.memory.heapUsedBytes * 2 * 4).toBeLessThan(health!.memory.ceilingBytes);
    await gw.stop();
  }, 90_000);

  it('caps it at HEAP_GROWTH_MAX_PERCENT, and 0 leaves V8 its own rule', async () => {
    for (const [max, shown] of [['150', 150], ['0', undefined]] as const) {
      gw = await startGatewayProcess('src', home, { HEAP_GROWTH_MAX_PERCENT: max });
      const health = (await gw.health()) as { memory: { heapGrowth?: { growthPercent: number } } } | undefined;
      expect(health?.memory).toBeDefined();
      expect(health!.memory.heapGrowth?.growthPercent).toBe(shown);
      await gw.stop();
    }
  }, 90_000);
});
