import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { noteUpstreamResponse } from '../observability/logger.js';
import { authorize } from './authorize.js';
import { forwardHeaders } from './forward-headers.js';
import { registerProxy, upstreamHeaders, type FromOptions } from './register-proxy.js';
import { holdForReplay, isInvalidTokenChallenge, type ReplayBody } from './replay.js';

// One @fastify/http-proxy registration per configured route. Before forwarding: the CSRF
// header, the session, a fresh access token. Bodies stream both ways untouched, except small
// ones on routes that retry: an upstream 401 invalid_token gets one forced refresh and one
// replay of the call.

const ACCESS_TOKEN = Symbol('bff.accessToken');
const STARTED = Symbol('bff.upstreamStarted');
const REPLAY = Symbol('bff.replayBody');
type ProxiedRequest = FastifyRequest & { [ACCESS_TOKEN]?: string; [STARTED]?: bigint; [REPLAY]?: ReplayBody };

export async function registerRoute(app: FastifyInstance, ctx: GatewayContext, route: RouteConfig): Promise<void> {
  const trustProxy = ctx.config.server.trustProxy !== false;
  const isOwnCookie = (name: string) => ctx.cookies.isOwn(name);
  const sendsToken = route.token !== 'none';
  const retries = route.retryOn401 && sendsToken;
  const histogram = ctx.metrics.upstreamDuration.labels({ route: route.prefix });

  const forward = (request: ProxiedRequest, reply: FastifyReply, dest: string, options: FromOptions, last: boolean) => {
    const held = request[REPLAY];
    const body = held?.kind === 'buffered' ? { body: held.body, contentType: request.headers['content-type'] ?? 'application/octet-stream' } : {};
    return reply.from(dest, {
      ...options,
      ...body,
      onResponse: (_request, _reply, res) => {
        const started = request[STARTED];
        if (started !== undefined) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          histogram.observe(seconds);
          noteUpstreamResponse(request, res.statusCode, seconds);
        }
        const replayable = held !== undefined && held.kind !== 'streamed';
        if (last || !replayable || res.statusCode !== 401 || !isInvalidTokenChallenge(upstreamHeaders(res))) {
          return reply.send(res.stream);
        }
        res.stream.resume(); // this answer is dropped: drain it
        authorize(ctx, route, request, request[ACCESS_TOKEN])
          .then((token) => {
            request[ACCESS_TOKEN] = token;
            request.log.info('upstream refused the access token (invalid_token): refreshed, replaying once');
            forward(request, reply, dest, options, true);
          })
          .catch((error: unknown) => reply.send(error));
      },
    });
  };

  await registerProxy(app, route, {
    preHandler: async (request: ProxiedRequest) => {
      request[ACCESS_TOKEN] = await authorize(ctx, route, request);
      if (retries && request[ACCESS_TOKEN] !== undefined) request[REPLAY] = await holdForReplay(request, route.timeoutMs);
    },
    forward: (request, reply, dest, options) => forward(request, reply, dest, options, !retries),
    rewriteRequestHeaders: (request, headers) => {
      (request as ProxiedRequest)[STARTED] = process.hrtime.bigint();
      return forwardHeaders(request, headers, {
        isOwnCookie,
        sendsToken,
        trustProxy,
        accessToken: (request as ProxiedRequest)[ACCESS_TOKEN],
      });
    },
  });
}
