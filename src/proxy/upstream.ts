import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { errors as undiciErrors } from 'undici';
import type { RouteConfig } from '../config/types.js';
import { errors, type GatewayError } from '../errors.js';
import { createUpstreamPool, type UpstreamPool } from '../tls/upstream-pool.js';
import { HOP_BY_HOP } from './forward-headers.js';

// One route's upstream: an undici connection pool, where a request path goes, and what of
// the upstream's answer reaches the client. Paths and Location headers follow
// @fastify/http-proxy's rules (the prefix replaced by rewritePrefix, which defaults to the
// upstream URL's own path), so configurations keep their meaning.

export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Readable & { dump(): Promise<void>; arrayBuffer(): Promise<ArrayBuffer> };
}

/** the longest body read whole before it is sent (bodyToSend) */
const WHOLE_BODY_BYTES = 16 * 1024;

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:/i;

export class Upstream {
  private readonly pool: UpstreamPool;
  /** the path prefix the gateway serves the route under ('' for '/') */
  private readonly prefix: string;
  private readonly rewritePrefix: string;

  constructor(route: Pick<RouteConfig, 'prefix' | 'upstream' | 'rewritePrefix' | 'timeoutMs' | 'tls'>) {
    const url = new URL(route.upstream);
    this.prefix = route.prefix === '/' ? '' : route.prefix;
    let rewrite = route.rewritePrefix || url.pathname;
    if (!this.prefix.endsWith('/') && rewrite.endsWith('/')) rewrite = rewrite.slice(0, -1);
    this.rewritePrefix = rewrite;
    const poolOptions = { connections: 128, headersTimeout: route.timeoutMs, bodyTimeout: route.timeoutMs };
    this.pool = createUpstreamPool(url, { name: route.prefix, tls: route.tls, poolOptions });
  }

  /** The upstream path of a request URL under the route's prefix; 400 for a path that climbs out. */
  path(requestUrl: string): string {
    const rest = requestUrl.slice(this.prefix.length);
    const query = rest.indexOf('?');
    const path = query === -1 ? rest : rest.slice(0, query);
    if (climbsOut(path)) throw errors.invalidRequest('the path may not hold ".." segments');
    const dest = this.rewritePrefix + rest;
    return dest === '' ? '/' : dest[0] === '?' ? `/${dest}` : dest;
  }

  /** `headers` as forwardHeaders makes them (no hop-by-hop header) */
  request(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer | Readable | undefined): Promise<UpstreamResponse> {
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    return this.pool.request({ method: method as 'GET', path, headers, body: body ?? null }) as Promise<UpstreamResponse>;
  }

  /**
   * What the client is sent of the upstream's body. A small, complete body (a Content-Length
   * of up to 16 KB and a Content-Type, not the answer to a HEAD, not 204/304) is read whole
   * and sent as one buffer: fastify then writes status, headers and body at once, where a
   * stream costs two end-of-stream watchers, a pipe and a header at a time, about a tenth of
   * a proxied call's CPU (bench/README.md). Such a body that breaks off becomes a clean 502.
   * Every other body streams as it comes.
   */
  async bodyToSend(method: string, response: UpstreamResponse): Promise<Buffer | Readable> {
    const length = response.headers['content-length'];
    const small =
      length !== undefined &&
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

  /** The upstream's response headers as the client gets them. */
  responseHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
    const out: IncomingHttpHeaders = {};
    for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
    const location = out.location;
    if (typeof location === 'string' && !ABSOLUTE_URL.test(location) && !location.startsWith('//')) {
      out.location = location.replace(this.rewritePrefix, this.prefix);
    }
    return out;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** A ".." segment, also percent-encoded or with backslashes, which an upstream might resolve. */
function climbsOut(path: string): boolean {
  if (!path.includes('.') && !path.includes('%')) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return decoded.replaceAll('\\', '/').split('/').includes('..');
}

/** An upstream failure as the contract names it: 504 for timeouts, else 502. */
export function upstreamError(error: unknown): GatewayError {
  const timedOut = error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError;
  return timedOut ? errors.gatewayTimeout({ cause: error }) : errors.badGateway({ cause: error });
}
