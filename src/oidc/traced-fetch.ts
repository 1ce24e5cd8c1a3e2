import { SpanKind } from '@opentelemetry/api';
import type { FetchImplementation } from 'jose';
import type { CustomFetch } from 'openid-client';
import { injectTraceContext, traced, tracingOn } from '../observability/tracing.js';

// Every call to the IdP (discovery, JWKS, token, revocation) as a client span that hands the
// IdP the W3C traceparent. The span holds the method, host and path, and the status: never
// the body, the query or a header value (they carry codes, tokens and client secrets).

// what openid-client calls when given no fetch of its own (its body types are wider than
// the DOM's RequestInit, though fetch takes them all)
const globalFetch = fetch as unknown as CustomFetch;

/** `base` (the fetch the IdP client uses) with a span per call; `base` itself while tracing is off. */
export function tracedFetch(base?: CustomFetch): CustomFetch | undefined {
  if (!tracingOn()) return base;
  const send = base ?? globalFetch;
  return (url, options) => {
    const { host, pathname } = new URL(url);
    const attributes = { 'http.request.method': options.method, 'server.address': host, 'url.path': pathname };
    return traced(
      `idp ${options.method} ${pathname}`,
      async (span) => {
        injectTraceContext(options.headers);
        const response = await send(url, options);
        span?.setAttribute('http.response.status_code', response.status);
        return response;
      },
      attributes,
      SpanKind.CLIENT,
    );
  };
}

/** The same for jose's JWKS fetch (logout tokens), whose headers are a Headers object. */
export function tracedJwksFetch(base?: FetchImplementation): FetchImplementation | undefined {
  if (!tracingOn()) return base;
  const inner = tracedFetch(base as unknown as CustomFetch | undefined)!;
  return (url, options) => {
    const headers: Record<string, string> = {};
    options.headers.forEach((value, name) => (headers[name] = value));
    return inner(url, { ...options, headers, body: undefined });
  };
}
