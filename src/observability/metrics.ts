import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// One registry per app, so several gateways in one process (the tests) do not mix counts.
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly tokenRefresh = new Counter({
    name: 'bff_token_refresh_total',
    help: 'Refreshes of access tokens, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: 'bff_http_requests_total',
    help: 'Requests answered by the gateway, by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'bff_upstream_duration_seconds',
    help: 'Time from forwarding a request to the upstream response headers',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly refreshLockWait = new Histogram({
    name: 'bff_refresh_lock_wait_seconds',
    help: 'Time a call waited for another refresh of its session to finish',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
