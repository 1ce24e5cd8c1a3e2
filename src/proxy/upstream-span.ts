import { SpanKind } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import { injectTraceContext, pathOf, traced } from '../observability/tracing.js';
import type { UpstreamResponse } from './upstream.js';

// The upstream call of a proxied request as a client span (only called while tracing is
// on), ended when the upstream's headers arrive; the upstream gets its traceparent. The
// span holds the method, host, path and status, never a header value or the query.

export function tracedUpstreamCall(
  host: string,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  send: () => Promise<UpstreamResponse>,
): Promise<UpstreamResponse> {
  const attributes = { 'http.request.method': method, 'server.address': host, 'url.path': pathOf(path) };
  return traced(
    `upstream ${method}`,
    async (span) => {
      injectTraceContext(headers);
      const response = await send();
      span?.setAttribute('http.response.status_code', response.statusCode);
      return response;
    },
    attributes,
    SpanKind.CLIENT,
  );
}
