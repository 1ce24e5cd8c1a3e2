import proxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import { upstreamError } from './upstream-errors.js';

// The @fastify/http-proxy registration every route shares; route.ts (REST) and
// soap-route.ts differ only in what they do before forwarding and how they forward.

export type FromOptions = Parameters<FastifyReply['from']>[1] & object;
type Headers = Record<string, string | string[] | undefined>;

export interface ProxyHooks {
  /** more route config (the error handler reads `soap` from it) */
  config?: Record<string, unknown>;
  preHandler(request: FastifyRequest): Promise<void>;
  forward(request: FastifyRequest, reply: FastifyReply, dest: string, options: FromOptions): unknown;
  rewriteRequestHeaders(request: FastifyRequest, headers: Headers): Headers;
}

/** reply-from passes undici's response headers; its type names a ServerResponse instead */
export const upstreamHeaders = (res: object) => (res as { headers?: Record<string, unknown> }).headers ?? {};

export async function registerProxy(app: FastifyInstance, route: RouteConfig, hooks: ProxyHooks): Promise<void> {
  await app.register(async (scope) => {
    // fastify parses text/plain bodies into strings by default; a proxy streams them like
    // every other type (@fastify/http-proxy only replaces the JSON and catch-all parsers)
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser('text/plain', (_request, payload, done) => done(null, payload));
    await scope.register(proxy, {
      upstream: route.upstream,
      prefix: route.prefix === '/' ? '' : route.prefix,
      rewritePrefix: route.rewritePrefix,
      config: { routeLabel: route.prefix, ...hooks.config },
      undici: { headersTimeout: route.timeoutMs, bodyTimeout: route.timeoutMs, connections: 128 },
      preHandler: hooks.preHandler,
      handler: (request, reply, dest, options) => hooks.forward(request, reply, dest, options as FromOptions),
      replyOptions: {
        // the hook is typed for any raw server; the gateway only serves HTTP/1.1
        rewriteRequestHeaders: (request, headers) => hooks.rewriteRequestHeaders(request as FastifyRequest, headers),
        onError: (reply, { error }) => {
          reply.send(upstreamError(error));
        },
      },
    });
  });
}
