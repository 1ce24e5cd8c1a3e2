import { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { hostname } from 'node:os';
import type { DestinationStream } from 'pino';
import { LineBuffer } from './line-buffer.js';
import { routeLabel } from './logger.js';
import { redactUrl } from './redact-url.js';
import type { GatewayMetrics } from './metrics.js';

// One "request completed" line per request, and the request counter, from one onResponse
// hook. The line is made of named fields only (request id, method, path, status, route,
// the upstream's status and duration, the response time): none of them can carry a secret
// (the URL goes through redact-url.ts).
// So it is written here, in pino's format, rather than through pino: the redaction pass
// every other line gets, pino's generic serialisation and a write per line cost a proxied
// call about a third of its CPU (bench/README.md). Lines are gathered and written in large
// pieces (line-buffer.ts).

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export interface UpstreamOutcome {
  status: number;
  durationMs: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the upstream answer of a proxied request, kept until its line is written */
    upstreamOutcome: UpstreamOutcome | null;
  }
}

/**
 * Records the upstream's status and the time to its response headers for the request's
 * line (the last call wins, so a replayed call logs the replay).
 */
export function noteUpstreamResponse(request: FastifyRequest, status: number, durationSeconds: number): void {
  request.upstreamOutcome = { status, durationMs: Math.round(durationSeconds * 1e4) / 10 };
}

/** fastify's own request lines ("incoming request", "request completed") give way to ours. */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(...args: Parameters<LogController['requestCompleted']>): void {
    // a response that failed (its stream broke) keeps fastify's error line
    if (args[0]) super.requestCompleted(...args);
  }

  // fastify's own 404 handler names the URL (ours replaces that handler; this is in case)
  override routeNotFound(request: Parameters<LogController['routeNotFound']>[0]): void {
    request.log.info(`Route ${request.raw.method}:${redactUrl(request.raw.url ?? '')} not found`);
  }
}

export function installAccessLog(
  app: FastifyInstance,
  metrics: GatewayMetrics,
  opts: { level?: string; stream?: DestinationStream },
): void {
  // a field of every request from its creation (fastify's way), rather than a WeakMap
  // keyed by requests, which every garbage collection would have to sweep
  app.decorateRequest('upstreamOutcome', null);
  const logs = LEVELS.indexOf(opts.level ?? 'info') <= LEVELS.indexOf('info');
  // tests hand a stream (a line per write); otherwise stdout, gathered
  const buffer = opts.stream ? undefined : new LineBuffer(1);
  const stream = opts.stream;
  const out = (line: string) => (buffer ? buffer.add(line) : stream?.write(line));
  app.addHook('onClose', async () => {
    await buffer?.close();
  });
  // the fields pino puts in every line (level 30 = info)
  const process_ = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`;
  // per route, found once: its label as JSON, and the request counter's child per status
  const routes = new Map<string, { label: string; json: string; counters: Map<number, { inc(): void }> }>();
  const routeEntry = (route: string) => {
    let entry = routes.get(route);
    if (!entry) routes.set(route, (entry = { label: route, json: JSON.stringify(route), counters: new Map() }));
    return entry;
  };

  app.addHook('onResponse', (request, reply, done) => {
    const route = routeEntry(routeLabel(request));
    const status = reply.statusCode;
    let counter = route.counters.get(status);
    if (!counter) route.counters.set(status, (counter = metrics.httpRequests.bind({ route: route.label, status: String(status) })));
    counter.inc();
    if (logs) {
      const upstream = request.upstreamOutcome;
      const upstreamPart = upstream ? `,"upstream":{"status":${upstream.status},"durationMs":${upstream.durationMs}}` : '';
      const tracePart = request.traceId === null ? '' : `,"traceId":"${request.traceId}"`;
      out(
        `{"level":30,"time":${Date.now()}${process_},"reqId":${JSON.stringify(request.id)}${tracePart},` +
          `"req":{"method":${JSON.stringify(request.method)},"url":${JSON.stringify(redactUrl(request.url))}},` +
          `"res":{"statusCode":${status},"route":${route.json}${upstreamPart}},` +
          `"responseTime":${reply.elapsedTime},"msg":"request completed"}\n`,
      );
    }
    done();
  });
}
