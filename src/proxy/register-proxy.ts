import proxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { noteUpstreamResponse } from '../observability/logger.js';
import { authorize } from './authorize.js';
import { forwardHeaders } from './forward-headers.js';
import { isInvalidTokenChallenge } from './replay.js';
import { upstreamError } from './upstream-errors.js';

// The @fastify/http-proxy registration every route shares, and how a call is forwarded:
// the bearer token and forwarded headers, the upstream's duration, and an upstream 401
// invalid_token answered with one forced refresh and one replay when the call allows it.
// route.ts (REST) and soap-route.ts differ only in how they prepare a call.

type FromOptions = Parameters<FastifyReply['from']>[1] & object;
type Headers = Record<string, string | string[] | undefined>;

/** What a route knows of one call by the time it forwards it. */
export interface ProxiedCall {
  /** the access token to forward (undefined: none) */
  token?: string;
  /** a body held in memory, sent in place of the request stream */
  body?: Buffer;
  /** the call can be sent again (no body, or one held in memory) */
  replayable: boolean;
  /** the body again after a forced refresh, for routes that carry the token inside it */
  bodyWithToken?(token: string | undefined): Buffer;
  started?: bigint;
}

export interface RouteBehaviour {
  /** more route config (the error handler reads `soap` from it) */
  config?: Record<string, unknown>;
  /** checks, authorization and body handling before the call is forwarded */
  prepare(request: FastifyRequest, call: ProxiedCall): Promise<void>;
  /** last changes to the headers the upstream gets */
  adjustHeaders?(request: FastifyRequest, call: ProxiedCall, headers: Headers): Headers;
}

const CALL = Symbol('bff.proxiedCall');
type ProxiedRequest = FastifyRequest & { [CALL]?: ProxiedCall };
const callOf = (request: object): ProxiedCall => ((request as ProxiedRequest)[CALL] ??= { replayable: false });

/** reply-from passes undici's response headers; its type names a ServerResponse instead */
const upstreamHeaders = (res: object) => (res as { headers?: Record<string, unknown> }).headers ?? {};

export async function registerProxy(
  app: FastifyInstance,
  ctx: GatewayContext,
  route: RouteConfig,
  behaviour: RouteBehaviour,
): Promise<void> {
  const trustProxy = ctx.config.server.trustProxy !== false;
  const isOwnCookie = (name: string) => ctx.cookies.isOwn(name);
  const sendsToken = route.token !== 'none';
  const retries = route.retryOn401 && sendsToken;
  const histogram = ctx.metrics.upstreamDuration.labels({ route: route.prefix });

  const forward = (request: FastifyRequest, reply: FastifyReply, dest: string, options: FromOptions, last: boolean) => {
    const call = callOf(request);
    // the body goes as reply-from's `body` option, which keeps the content type as given
    // (the request.body path would cut it down to its bare media type)
    const contentType = request.headers['content-type'] ?? 'application/octet-stream';
    const body = call.body === undefined ? {} : { body: call.body, contentType };
    return reply.from(dest, {
      ...options,
      ...body,
      onResponse: (_request, _reply, res) => {
        if (call.started !== undefined) {
          const seconds = Number(process.hrtime.bigint() - call.started) / 1e9;
          histogram.observe(seconds);
          noteUpstreamResponse(request, res.statusCode, seconds);
        }
        if (last || !call.replayable || res.statusCode !== 401 || !isInvalidTokenChallenge(upstreamHeaders(res))) {
          return reply.send(res.stream);
        }
        res.stream.resume(); // this answer is dropped: drain it
        // reply-from has already copied its headers onto the reply: the replay's must not mix
        // with them (a stale Content-Length would cut the body or leave the client waiting)
        for (const name of Object.keys(upstreamHeaders(res))) reply.removeHeader(name);
        authorize(ctx, route, request, call.token)
          .then((token) => {
            call.token = token;
            if (call.bodyWithToken) call.body = call.bodyWithToken(token);
            request.log.info('upstream refused the access token (invalid_token): refreshed, replaying once');
            forward(request, reply, dest, options, true);
          })
          .catch((error: unknown) => reply.send(error));
      },
    });
  };

  await app.register(async (scope) => {
    // fastify parses text/plain bodies into strings by default; a proxy streams them like
    // every other type (@fastify/http-proxy only replaces the JSON and catch-all parsers)
    scope.removeContentTypeParser('text/plain');
    scope.addContentTypeParser('text/plain', (_request, payload, done) => done(null, payload));
    await scope.register(proxy, {
      upstream: route.upstream,
      prefix: route.prefix === '/' ? '' : route.prefix,
      rewritePrefix: route.rewritePrefix,
      config: { routeLabel: route.prefix, ...behaviour.config },
      undici: { headersTimeout: route.timeoutMs, bodyTimeout: route.timeoutMs, connections: 128 },
      // reply-from's own two info lines per call: "request completed" already carries the
      // upstream's status and duration
      disableRequestLogging: true,
      preHandler: (request) => behaviour.prepare(request, callOf(request)),
      handler: (request, reply, dest, options) => forward(request, reply, dest, options as FromOptions, !retries),
      replyOptions: {
        // reply-from would send a GET answered 503 up to ten more times: an upstream that is
        // already failing gets no extra load, and its 503 reaches the client as it came
        retryDelay: () => null,
        // the hook is typed for any raw server; the gateway only serves HTTP/1.1
        rewriteRequestHeaders: (raw, headers) => {
          const request = raw as FastifyRequest;
          const call = callOf(request);
          call.started = process.hrtime.bigint();
          const out = forwardHeaders(request, headers, { isOwnCookie, sendsToken, trustProxy, accessToken: call.token });
          return behaviour.adjustHeaders ? behaviour.adjustHeaders(request, call, out) : out;
        },
        onError: (reply, { error }) => {
          reply.send(upstreamError(error));
        },
      },
    });
  });
}
