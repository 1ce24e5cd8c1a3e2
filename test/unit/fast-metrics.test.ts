import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterBatch } from '../../src/observability/counter-batch.js';
import { RouteHistogram } from '../../src/observability/route-histogram.js';

const BUCKETS = [0.005, 0.01, 0.25, 1];

describe('RouteHistogram', () => {
  it("renders what prom-client's own Histogram renders for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const record = new RouteHistogram('d_seconds', 'durations', BUCKETS, ours);
    const reference = new Histogram({ name: 'd_seconds', help: 'durations', labelNames: ['route'], buckets: BUCKETS, registers: [theirs] });
    const api = record.route('/api');
    const soap = record.route('/soap');
    for (const [observe, route, seconds] of [
      [api, '/api', 0.003],
      [api, '/api', 0.005], // on a bound: counted in it
      [api, '/api', 0.2],
      [api, '/api', 100], // above every bound: +Inf only
      [soap, '/soap', 0.02],
    ] as const) {
      observe(seconds);
      reference.observe({ route }, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('d_seconds_bucket{le="0.005",route="/api"} 2\n');
    expect(await ours.metrics()).toContain('d_seconds_bucket{le="+Inf",route="/api"} 4\n');

    record.reset();
    reference.reset();
    expect(await ours.metrics()).toContain('d_seconds_count{route="/api"} 0\n');
  });
});

describe('CounterBatch', () => {
  it('adds what was counted at each scrape, once', async () => {
    const registry = new Registry();
    const batch: CounterBatch<'route' | 'status'> = new CounterBatch(
      new Counter({ name: 'r_total', help: 'requests', labelNames: ['route', 'status'], registers: [registry], collect: () => batch.flush() }),
    );
    const ok = batch.bind({ route: '/api', status: '200' });
    expect(await registry.metrics()).toContain('r_total{route="/api",status="200"} 0\n');
    ok.inc();
    ok.inc();
    ok.inc();
    expect(await registry.metrics()).toContain('r_total{route="/api",status="200"} 3\n');
    expect(await registry.metrics()).toContain('r_total{route="/api",status="200"} 3\n');
    ok.inc();
    batch.bind({ route: '/api', status: '502' }).inc();
    const text = await registry.metrics();
    expect(text).toContain('r_total{route="/api",status="200"} 4\n');
    expect(text).toContain('r_total{route="/api",status="502"} 1\n');
  });
});
