// The allocation-free histogram must read exactly as prom-client's own Histogram does for the same observations.
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { fastHistogram } from '../../src/metrics/fast-histogram.js';

const buckets = [0.001, 0.0025, 0.01, 0.1, 1];
const values = [0, 0.0005, 0.001, 0.0011, 0.0025, 0.003, 0.05, 0.1, 0.5, 1, 2, 30, Number.NaN];

describe('fastHistogram', () => {
  it('writes the Prometheus text and JSON that prom-client writes', async () => {
    const theirs = new Registry();
    const ref = new Histogram({ name: 'h_seconds', help: 'a histogram', labelNames: ['leg'] as const, buckets, registers: [theirs] });
    const ours = new Registry();
    // prom-client lists label sets in the order first observed (upstream here); ours in the order declared.
    const [upstream, station] = fastHistogram({ name: 'h_seconds', help: 'a histogram', buckets, registry: ours, series: [{ leg: 'upstream' }, { leg: 'station' }] }).series;
    values.forEach((v, i) => {
      const leg = i % 3 === 0 ? 'upstream' : 'station';
      // prom-client refuses NaN with a throw; ours ignores it: both leave the counts alone.
      if (Number.isFinite(v)) ref.observe({ leg }, v);
      (leg === 'station' ? station : upstream)?.observe(v);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // JSON (what cluster aggregation reads) alike but for prom-client's empty exemplar slots.
    const plain = async (r: Registry): Promise<unknown> =>
      (await r.getMetricsAsJSON()).map(({ name, help, type, aggregator, values }) => ({ name, help, type, aggregator, values: values.map(({ value, labels, metricName }: { value: number; labels: object; metricName?: string }) => ({ value, labels, metricName })) }));
    expect(await plain(ours)).toEqual(await plain(theirs));
  });

  it('without labels, and reset', async () => {
    const theirs = new Registry();
    const ref = new Histogram({ name: 'f_seconds', help: 'f', buckets, registers: [theirs] });
    const ours = new Registry();
    const [only] = fastHistogram({ name: 'f_seconds', help: 'f', buckets, registry: ours, series: [] }).series;
    for (const v of [0.002, 0.2, 5]) {
      ref.observe(v);
      only?.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toMatch(/^f_seconds_count 3$/m);
    ours.resetMetrics();
    expect(await ours.metrics()).toMatch(/^f_seconds_count 0$/m);
  });
});
