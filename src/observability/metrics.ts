import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CounterBatch } from './counter-batch.js';
import { RouteHistogram } from './route-histogram.js';

// One registry per app, so several gateways in one process (the tests) do not mix counts.
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly tokenRefresh = new Counter({
    name: 'bff_token_refresh_total',
    help: 'Refreshes of access tokens, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  // the two metrics of every request are counted without prom-client's per-call label work
  /** bff_http_requests_total{route,status}: bind a count per label set, once */
  readonly httpRequests: CounterBatch<'route' | 'status'> = new CounterBatch(
    new Counter({
      name: 'bff_http_requests_total',
      help: 'Requests answered by the gateway, by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [this.registry],
      collect: () => this.httpRequests.flush(),
    }),
  );

  readonly upstreamDuration = new RouteHistogram(
    'bff_upstream_duration_seconds',
    'Time from forwarding a request to the upstream response headers',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    this.registry,
  );

  readonly refreshLockWait = new Histogram({
    name: 'bff_refresh_lock_wait_seconds',
    help: 'Time a call waited for another refresh of its session to finish',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly websocketConnections = new Gauge({
    name: 'bff_websocket_connections',
    help: 'Open proxied WebSockets, by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly websocketClosed = new Counter({
    name: 'bff_websocket_closed_total',
    help: 'Proxied WebSockets closed, by what closed them (client, upstream, session_ended, shutdown, message_too_big, error)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
