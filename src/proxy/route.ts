import proxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import { requestSession, requireCsrfHeader } from '../session/request-session.js';
import { forwardHeaders } from './forward-headers.js';
import { upstreamError } from './upstream-errors.js';

// One @fastify/http-proxy registration per configured route. Before forwarding: the CSRF
// header, the session, a fresh access token. Bodies stream both ways untouched.

const ACCESS_TOKEN = Symbol('bff.accessToken');
const STARTED = Symbol('bff.upstreamStarted');
type ProxiedRequest = FastifyRequest & { [ACCESS_TOKEN]?: string; [STARTED]?: bigint };

export async function registerRoute(app: FastifyInstance, ctx: GatewayContext, route: RouteConfig): Promise<void> {
  const trustProxy = ctx.config.server.trustProxy !== false;
  const isOwnCookie = (name: string) => ctx.cookies.isOwn(name);
  const sendsToken = route.token !== 'none';
  const histogram = ctx.metrics.upstreamDuration.labels({ route: route.prefix });

  await app.register(proxy, {
    upstream: route.upstream,
    prefix: route.prefix === '/' ? '' : route.prefix,
    rewritePrefix: route.rewritePrefix,
    config: { routeLabel: route.prefix },
    undici: { headersTimeout: route.timeoutMs, bodyTimeout: route.timeoutMs, connections: 128 },
    preHandler: (request) => authorize(ctx, route, request),
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => {
        (request as ProxiedRequest)[STARTED] = process.hrtime.bigint();
        return forwardHeaders(request, headers, {
          isOwnCookie,
          sendsToken,
          trustProxy,
          accessToken: (request as ProxiedRequest)[ACCESS_TOKEN],
        });
      },
      onResponse: (request, reply, res) => {
        const started = (request as ProxiedRequest)[STARTED];
        if (started !== undefined) histogram.observe(Number(process.hrtime.bigint() - started) / 1e9);
        reply.send(res.stream);
      },
      onError: (reply, { error }) => {
        reply.send(upstreamError(error));
      },
    },
  });
}

async function authorize(ctx: GatewayContext, route: RouteConfig, request: FastifyRequest): Promise<void> {
  if (route.csrf) requireCsrfHeader(request);
  if (!route.requireSession && route.token === 'none') return;
  const session = await requestSession(ctx, request);
  if (!session) {
    if (route.requireSession) throw errors.unauthenticated();
    return;
  }
  if (route.token === 'session') {
    const fresh = await ctx.tokens.fresh(session);
    (request as ProxiedRequest)[ACCESS_TOKEN] = fresh.data.tokens.accessToken;
  }
}
