import type { Metric, Registry } from 'prom-client';

// A histogram labelled by route, exposed through a prom-client Registry exactly as its own
// Histogram would be (<name>_bucket with cumulative le buckets and +Inf, _sum, _count), but
// recorded with an array increment: prom-client's observe() builds, checks and hashes the
// label set on every call, which was about 5 µs of every proxied call.

interface Series {
  route: string;
  /** per bucket, not cumulative; the last one is +Inf */
  counts: number[];
  sum: number;
}

interface MetricValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class RouteHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** the recorder of one route's observations (in seconds); make it once per route */
  route(route: string): (seconds: number) => void {
    const series: Series = { route, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0 };
    this.series.push(series);
    const buckets = this.buckets;
    return (seconds) => {
      let i = 0;
      while (i < buckets.length && seconds > buckets[i]!) i += 1;
      series.counts[i]! += 1;
      series.sum += seconds;
    };
  }

  /** what a Registry reads at a scrape */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    for (const { route, counts, sum } of this.series) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, route }, value: cumulative });
      });
      cumulative += counts[this.buckets.length]!;
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', route }, value: cumulative });
      values.push({ metricName: `${this.name}_sum`, labels: { route }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { route }, value: cumulative });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const series of this.series) {
      series.counts.fill(0);
      series.sum = 0;
    }
  }
}
