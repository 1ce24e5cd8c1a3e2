import { propagation, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { activeTracer, markFailed, pathOf } from '../observability/tracing.js';

// The upstream call of a proxied request as a client span (only made while tracing is on),
// ended by the caller when the upstream's headers arrive or the call fails; the upstream
// gets its traceparent. The span holds the method, host, path and status, never a header
// value or the query.
//
// A leaf on the hot path: started with the request span's context as its explicit parent
// and never made the active one (nothing runs inside it that makes spans), so the call
// costs no context switch, closure or promise of its own (bench/README.md, "Traces").

export function startUpstreamSpan(parent: Context, host: string, method: string, path: string, headers: IncomingHttpHeaders): Span {
  const span = activeTracer()!.startSpan(
    `upstream ${method}`,
    { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'server.address': host, 'url.path': pathOf(path) } },
    parent,
  );
  propagation.inject(trace.setSpan(parent, span), headers);
  return span;
}

/** Ends the span with the upstream's status, or marked with what failed (by its code only). */
export function endUpstreamSpan(span: Span, statusCode: number | undefined, failure?: unknown): void {
  if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
  else markFailed(span, failure);
  span.end();
}
