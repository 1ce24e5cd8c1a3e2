import { propagation, SpanKind, trace, type Context } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { activeTracer, markFailed, pathOf } from '../observability/tracing.js';
import type { UpstreamResponse } from './upstream.js';

// The upstream call of a proxied request as a client span (only called while tracing is
// on), ended when the upstream's headers arrive; the upstream gets its traceparent. The
// span holds the method, host, path and status, never a header value or the query.
//
// A leaf on the hot path: started with the request span's context as its explicit parent
// and never made the active one (nothing runs inside it that makes spans), so the call
// costs no context switch or async function (bench/README.md, "Traces").

export function tracedUpstreamCall(
  parent: Context,
  host: string,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  send: () => Promise<UpstreamResponse>,
): Promise<UpstreamResponse> {
  const span = activeTracer()!.startSpan(
    `upstream ${method}`,
    { kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'server.address': host, 'url.path': pathOf(path) } },
    parent,
  );
  propagation.inject(trace.setSpan(parent, span), headers);
  return send().then(
    (response) => {
      span.setAttribute('http.response.status_code', response.statusCode);
      span.end();
      return response;
    },
    (e: unknown) => {
      markFailed(span, e);
      span.end();
      throw e;
    },
  );
}
