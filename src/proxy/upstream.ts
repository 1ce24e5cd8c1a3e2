import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { errors as undiciErrors } from 'undici';
import type { RouteConfig } from '../config/types.js';
import { errors, type GatewayError } from '../errors.js';
import { createUpstreamPool, type UpstreamPool } from '../tls/upstream-pool.js';
import { HOP_BY_HOP } from './forward-headers.js';
import { connectionNamed } from './forwarding-syntax.js';
import { climbsOut, routedPath } from './request-path.js';
import { withoutOwnCookies } from './response-cookies.js';

// One route's upstream: an undici connection pool, where a request path goes, and what of
// the upstream's answer reaches the client. Paths and Location headers follow
// @fastify/http-proxy's rules (the prefix replaced by rewritePrefix, which defaults to the
// upstream URL's own path), so configurations keep their meaning.

export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Readable & { dump(): Promise<void>; arrayBuffer(): Promise<ArrayBuffer> };
}

/** where a dropped Set-Cookie is reported (a request's logger) */
interface Warns {
  warn(fields: object, message: string): void;
}

/** the longest body read whole before it is sent (bodyToSend) */
const WHOLE_BODY_BYTES = 16 * 1024;

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:/i;

export class Upstream {
  /** calls whose request is whole in hand (no body, or one held in memory) */
  private readonly pool: UpstreamPool;
  /**
   * calls whose body still streams in from the client, which sets their pace: a pool of
   * their own without a connection cap, so slow clients never take `pool`'s connections
   * from everyone else (bounded by server.maxConnections, ended by server.requestTimeout)
   */
  private streaming: UpstreamPool | undefined;
  private readonly newStreamingPool: () => UpstreamPool;
  /** the path prefix the gateway serves the route under ('' for '/') */
  private readonly prefix: string;
  private readonly rewritePrefix: string;

  constructor(route: Pick<RouteConfig, 'prefix' | 'upstream' | 'rewritePrefix' | 'timeoutMs' | 'tls'>) {
    const url = new URL(route.upstream);
    this.prefix = route.prefix === '/' ? '' : route.prefix;
    let rewrite = route.rewritePrefix || url.pathname;
    if (!this.prefix.endsWith('/') && rewrite.endsWith('/')) rewrite = rewrite.slice(0, -1);
    this.rewritePrefix = rewrite;
    const timeouts = { headersTimeout: route.timeoutMs, bodyTimeout: route.timeoutMs };
    this.pool = createUpstreamPool(url, { name: route.prefix, tls: route.tls, poolOptions: { connections: 128, ...timeouts } });
    // made on the first streaming body only: most routes never see one
    this.newStreamingPool = () => createUpstreamPool(url, { name: `${route.prefix} (streaming bodies)`, tls: route.tls, poolOptions: timeouts });
  }

  /**
   * The upstream path of a request URL under the route's prefix: rewritePrefix + the routed
   * path after the prefix (request-path.ts) + the query exactly as sent. 400 for a target
   * that is not a path under the prefix, or a path that climbs out (a ".." segment).
   */
  path(requestUrl: string): string {
    const q = requestUrl.indexOf('?');
    const end = q === -1 ? requestUrl.length : q;
    const percent = requestUrl.indexOf('%');
    // no escape in the path (the usual case): routing saw it as it is, nothing is copied
    const decoded = percent !== -1 && percent < end;
    const routed = decoded ? routedPath(requestUrl, end) : requestUrl;
    const restEnd = decoded ? routed.length : end;
    const p = this.prefix.length;
    const next = routed.charCodeAt(p);
    if (routed.charCodeAt(0) !== 47 || !routed.startsWith(this.prefix) || (p < restEnd && next !== 47)) {
      throw errors.invalidRequest('the request target is not a path under the route');
    }
    if (climbsOut(routed, p, restEnd)) throw errors.invalidRequest('the path may not hold ".." segments');
    const rest = decoded ? routed.slice(p) + requestUrl.slice(end) : requestUrl.slice(p);
    const dest = this.rewritePrefix + rest;
    return dest === '' ? '/' : dest[0] === '?' ? `/${dest}` : dest;
  }

  /** `headers` as forwardHeaders makes them (no hop-by-hop header) */
  request(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer | Readable | undefined): Promise<UpstreamResponse> {
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    const pool = body === undefined || Buffer.isBuffer(body) ? this.pool : this.streamingPool();
    return pool.request({ method: method as 'GET', path, headers, body: body ?? null }) as Promise<UpstreamResponse>;
  }

  private streamingPool(): UpstreamPool {
    return (this.streaming ??= this.newStreamingPool());
  }

  /**
   * What the client is sent of the upstream's body. A small, complete body (a Content-Length
   * of up to 16 KB and a Content-Type, not the answer to a HEAD, not 204/304) is read whole
   * and sent as one buffer: fastify then writes status, headers and body at once, where a
   * stream costs two end-of-stream watchers, a pipe and a header at a time, about a tenth of
   * a proxied call's CPU (bench/README.md). Such a body that breaks off becomes a clean 502.
   * Every other body streams as it comes: an event stream and a body without Content-Length
   * (chunked) always do, so no stream is ever waited for.
   */
  async bodyToSend(method: string, response: UpstreamResponse): Promise<Buffer | Readable> {
    const length = response.headers['content-length'];
    const small =
      length !== undefined &&
      !isEventStream(response.headers['content-type']) &&
      Number(length) <= WHOLE_BODY_BYTES &&
      response.headers['content-type'] !== undefined &&
      method !== 'HEAD' &&
      response.statusCode !== 204 &&
      response.statusCode !== 304;
    if (!small) return response.body;
    const bytes = await response.body.arrayBuffer().catch((error: unknown) => {
      throw upstreamError(error);
    });
    return Buffer.from(bytes);
  }

  /**
   * The upstream's response headers as the client gets them: no hop-by-hop header (nor one
   * its Connection header names), no Set-Cookie for a cookie `isOwnCookie` names (logged as
   * a warning, by name only), a relative Location under the gateway's prefix.
   */
  responseHeaders(headers: IncomingHttpHeaders, isOwnCookie?: (name: string) => boolean, log?: Warns): IncomingHttpHeaders {
    const out: IncomingHttpHeaders = {};
    const named = connectionNamed(headers.connection);
    for (const name in headers) {
      if (HOP_BY_HOP.has(name) || (named !== undefined && named.includes(name))) continue;
      if (name === 'set-cookie' && isOwnCookie) {
        const { kept, dropped } = withoutOwnCookies(headers['set-cookie']!, isOwnCookie);
        if (dropped.length > 0) log?.warn({ cookies: dropped }, "dropped the upstream's Set-Cookie for the gateway's own cookies");
        if (kept !== undefined) out['set-cookie'] = kept as string[];
        continue;
      }
      out[name] = headers[name];
    }
    const location = out.location;
    if (typeof location === 'string' && !ABSOLUTE_URL.test(location) && !location.startsWith('//')) {
      out.location = location.replace(this.rewritePrefix, this.prefix);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.streaming?.close()]);
  }
}

/** An event stream is never read whole, whatever length it declares: each event goes on as it comes. */
function isEventStream(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*text\/event-stream\b/i.test(contentType);
}

/** An upstream failure as the contract names it: 504 for timeouts, else 502. */
export function upstreamError(error: unknown): GatewayError {
  const timedOut = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
  return timedOut ? errors.gatewayTimeout({ cause: error }) : errors.badGateway({ cause: error });
}
