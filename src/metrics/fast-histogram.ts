// A Prometheus histogram whose observe() costs a few comparisons and no allocation. prom-client's builds a label
// object, validates and hashes it and allocates a closure on every observe(); the relay metrics observe twice per
// relayed call, which the relay bench's profile showed as a few µs and over half a KiB per call. The output (name,
// buckets, _sum, _count, labels) is the one prom-client's own Histogram writes: this is one, with its counting
// replaced.
import { Histogram, type Registry } from 'prom-client';

type Values = Awaited<ReturnType<Histogram['get']>>;

/** One label set's counts: `counts[i]` observations at most `bounds[i]`; the last slot is +Inf. */
export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[], readonly labels: Readonly<Record<string, string>>) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

export interface FastHistogramOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly registry: Registry;
  /** Every label set the histogram will see, known up front (labels from the wire would be unbounded anyway). */
  readonly series: readonly Readonly<Record<L, string>>[];
}

export function fastHistogram<L extends string>(opts: FastHistogramOptions<L>): { series: HistogramSeries[]; metric: Histogram<L> } {
  const bounds = [...opts.buckets].sort((a, b) => a - b);
  const labelNames = opts.series.length > 0 ? (Object.keys(opts.series[0] as object) as L[]) : [];
  const series = (opts.series.length > 0 ? opts.series : [{} as Record<L, string>]).map((labels) => new HistogramSeries(bounds, labels));
  const metric = new Histogram<L>({ name: opts.name, help: opts.help, buckets: bounds, labelNames, registers: [opts.registry] });
  const name = opts.name;
  // The registry reads get() (JSON, cluster aggregation) or, for the text format, prom-client's untyped
  // getForPromString(); both report the counting above.
  const read = async (): Promise<Values> => {
    const values: Values['values'] = [];
    for (const s of series) {
      let cumulative = 0;
      bounds.forEach((b, i) => {
        cumulative += s.counts[i] as number;
        values.push({ value: cumulative, labels: { le: b, ...s.labels }, metricName: `${name}_bucket` });
      });
      values.push({ value: s.count, labels: { le: '+Inf', ...s.labels }, metricName: `${name}_bucket` });
      values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${name}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${name}_count` });
    }
    // prom-client's own Histogram.get() answers this shape, with type 'histogram' (a string at run time).
    return { name, help: opts.help, type: 'histogram', values, aggregator: 'sum' } as unknown as Values;
  };
  metric.get = read;
  (metric as unknown as { getForPromString: () => Promise<Values> }).getForPromString = read;
  metric.reset = (): void => {
    for (const s of series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  };
  return { series, metric };
}
