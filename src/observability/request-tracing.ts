import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { routeLabel } from './logger.js';
import { activeTracer, pathOf } from './tracing.js';

// A server span per request when tracing is on: it continues an incoming W3C traceparent,
// and the route handler runs inside it, so the session read, a refresh, the IdP calls and
// the upstream call (all made by handlers) become its children. The handler is wrapped
// rather than the rest of the hook chain run inside the span: a request body is parsed from
// socket events, which would lose the context on the way.

declare module 'fastify' {
  interface FastifyRequest {
    /** the request's server span while tracing is on */
    traceSpan: Span | null;
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
    const handler = route.handler as RouteHandlerMethod;
    route.handler = function tracedHandler(request, reply) {
      return request.traceContext ? context.with(request.traceContext, handler, this, request, reply) : handler.call(this, request, reply);
    };
  });

  app.addHook('onRequest', (request, _reply, done) => {
    // only the trace headers are read: the rest of the request never reaches a span
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      request.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': pathOf(request.url), 'url.scheme': request.protocol },
      },
      parent,
    );
    request.traceSpan = span;
    request.traceContext = trace.setSpan(parent, span);
    if (span.isRecording()) request.traceId = span.spanContext().traceId;
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

function end(request: FastifyRequest, status: number | undefined): void {
  const span = request.traceSpan;
  if (!span) return;
  request.traceSpan = null;
  const route = routeLabel(request);
  span.updateName(`${request.method} ${route}`);
  span.setAttribute('http.route', route);
  if (status !== undefined) {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
