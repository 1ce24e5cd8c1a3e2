import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { setLogTraceId } from './lazy-child-logger.js';
import { routeLabel } from './logger.js';
import { activeTracer, markFailed, pathOf } from './tracing.js';

// A server span per request when tracing is on: it continues an incoming W3C traceparent.
// The handler of an auth route runs inside it (a trace scope, scoped-context.ts), so the IdP
// calls it makes deep inside openid-client become its children. The handler is wrapped
// rather than the rest of the hook chain run inside the span: a request body is parsed from
// socket events, which would lose the context on the way.
//
// The proxied routes (config.explicitTraceParent), the hot path, open no scope: their spans
// take request.traceContext as their parent explicitly (the upstream and session-read spans
// here, a refresh or exchange through authorize.ts), and their log lines get the trace id
// from the request's logger. The name and the route are known when the span starts (fastify
// has matched the route before onRequest). bench/README.md, "Traces".

declare module 'fastify' {
  interface FastifyRequest {
    /** the request's server span while tracing is on */
    traceSpan: Span | null;
    /** the context holding that span: the explicit parent of the request's own spans */
    traceContext: Context | null;
    /** the trace id of a recorded request span, for its log line */
    traceId: string | null;
  }
}

export function installRequestTracing(app: FastifyInstance): void {
  app.decorateRequest('traceSpan', null);
  app.decorateRequest('traceContext', null);
  app.decorateRequest('traceId', null);
  const tracer = activeTracer();
  if (!tracer) return; // off: no hook at all

  app.addHook('onRoute', (route) => {
    if ((route.config as { explicitTraceParent?: boolean } | undefined)?.explicitTraceParent) return; // no scope
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function tracedHandler(request, reply) {
      return request.traceContext ? context.with(request.traceContext, handler, this, request, reply) : handler.call(this, request, reply);
    };
  });

  app.addHook('onRequest', (request, _reply, done) => {
    // only the trace headers are read: the rest of the request never reaches a span
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = routeLabel(request);
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': pathOf(request.url), 'url.scheme': request.protocol },
      },
      parent,
    );
    request.traceSpan = span;
    request.traceContext = trace.setSpan(parent, span);
    if (span.isRecording()) {
      request.traceId = span.spanContext().traceId;
      // outside a scope the logger's mixin finds no active span: the request's logger names it
      if (explicitParent(request)) setLogTraceId(request.log, request.traceId);
    }
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    request.traceSpan?.setAttribute('error.type', 'client_aborted');
    end(request, undefined);
    done();
  });
}

function explicitParent(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { explicitTraceParent?: boolean } | undefined)?.explicitTraceParent === true;
}

function end(request: FastifyRequest, status: number | undefined): void {
  const span = request.traceSpan;
  if (!span) return;
  request.traceSpan = null;
  if (status !== undefined) {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * The session read of a request, after the fact: a `session.read` span (from `startTime`,
 * a performance.now() reading) on every call, as the contract names it, with
 * `bff.session.cached` saying whether the session cache served it (no store I/O) or the
 * store was read. Made with the request's context as explicit parent: no active span, no
 * closure. A read that failed is marked with the error's code.
 */
export function traceSessionRead(request: FastifyRequest, fromCache: boolean, startTime: number, failure?: unknown): void {
  const tracer = activeTracer();
  if (!tracer || !request.traceContext) return;
  const span = tracer.startSpan('session.read', { startTime, attributes: { 'bff.session.cached': fromCache } }, request.traceContext);
  if (failure !== undefined) markFailed(span, failure);
  span.end(performance.now());
}
