import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { noteUpstreamResponse } from '../observability/access-log.js';
import { authorize } from './authorize.js';
import type { DpopKey } from '../oidc/dpop.js';
import { UpstreamDpop } from './dpop-call.js';
import { forwardHeaders } from './forward-headers.js';
import { isInvalidTokenChallenge } from './replay.js';
import { Upstream, upstreamError, type UpstreamResponse } from './upstream.js';
import { endUpstreamSpan, startUpstreamSpan } from './upstream-span.js';

// How every route forwards a call: the bearer token and forwarded headers, the upstream's
// duration, and an upstream 401 invalid_token answered with one forced refresh and one
// replay when the call allows it. route.ts (REST) and soap-route.ts differ only in how they
// prepare a call. The forwarding itself is an undici pool per route (upstream.ts): the
// hot path of every proxied request, kept to what it needs.

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
  /** the token goes in the body only, never in Authorization (a SAML assertion) */
  bodyOnly?: boolean;
  /** an upstream's DPoP nonce challenge was answered already (once per call) */
  nonceAnswered?: boolean;
  /** the DPoP key the session's token is bound to (authorize() sets it) */
  dpopKey?: DpopKey;
}

export interface RouteBehaviour {
  /** more route config (the error handler reads `soap` from it) */
  config?: Record<string, unknown>;
  /** checks, authorization and body handling before the call is forwarded */
  prepare(request: FastifyRequest, call: ProxiedCall): Promise<void>;
}

/**
 * A streamed answer's head goes out as soon as fastify pipes the body (its headers are set
 * by then), not with the first chunk, which is when fastify would send it: the client of an
 * event stream is told it is open before the first event, however late that comes, as the
 * upstream told the gateway.
 */
function sendHead(this: ServerResponse): void {
  if (!this.headersSent) this.flushHeaders();
}

const METHODS: HTTPMethods[] = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'OPTIONS'];

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
  const observeDuration = ctx.metrics.upstreamDuration.route(route.prefix);
  const upstream = new Upstream(route);
  const upstreamHost = new URL(route.upstream).host;
  const dpop = new UpstreamDpop(route.upstream);
  app.addHook('onClose', () => upstream.close());

  const forward = async (request: FastifyRequest, reply: FastifyReply, call: ProxiedCall, last: boolean): Promise<FastifyReply> => {
    const path = upstream.path(request.url);
    const headerToken = call.bodyOnly ? undefined : call.token;
    const headers = forwardHeaders(request, request.headers, { isOwnCookie, sendsToken, trustProxy, accessToken: headerToken });
    // a DPoP-bound session token goes with a proof for this very request
    const dpopKey = sendsToken && headerToken !== undefined ? call.dpopKey : undefined;
    const sentNonce = dpopKey && dpop.sign(headers, dpopKey, request.method, path, headerToken!);
    const body = call.body ?? (request.body as Readable | undefined);
    const span = request.traceContext && startUpstreamSpan(request.traceContext, upstreamHost, request.method, path, headers);
    const started = process.hrtime.bigint();
    let response: UpstreamResponse;
    try {
      response = await upstream.request(request.method, path, headers, body);
    } catch (error) {
      if (span) endUpstreamSpan(span, undefined, error);
      throw upstreamError(error);
    }
    if (span) endUpstreamSpan(span, response.statusCode);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    observeDuration(seconds);
    noteUpstreamResponse(request, response.statusCode, seconds);
    if (dpopKey && dpop.heard(response.statusCode, response.headers, sentNonce) && call.replayable && !call.nonceAnswered) {
      await response.body.dump(); // a use_dpop_nonce challenge: once more with the nonce
      call.nonceAnswered = true;
      return forward(request, reply, call, last);
    }
    if (!last && call.replayable && response.statusCode === 401 && isInvalidTokenChallenge(response.headers)) {
      await response.body.dump(); // this answer is dropped
      call.token = await authorize(ctx, route, request, call, call.token);
      if (call.bodyWithToken) call.body = call.bodyWithToken(call.token);
      request.log.info('upstream refused the access token (invalid_token): refreshed, replaying once');
      return forward(request, reply, call, true);
    }
    // a streamed body the upstream breaks off: the client's response is cut off too
    const answer = await upstream.bodyToSend(request.method, response);
    if (!Buffer.isBuffer(answer)) reply.raw.once('pipe', sendHead);
    return reply.code(response.statusCode).headers(upstream.responseHeaders(response.headers, isOwnCookie, request.log)).send(answer);
  };

  await app.register(async (scope) => {
    // bodies are streamed as they come, whatever their type (SOAP routes read theirs)
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    // explicitTraceParent: the handler is not run in a trace scope (request-tracing.ts)
    const config = { routeLabel: route.prefix, explicitTraceParent: true, ...behaviour.config };
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const call: ProxiedCall = { replayable: false, dpopKey: undefined };
      await behaviour.prepare(request, call);
      return forward(request, reply, call, !retries);
    };
    const prefix = route.prefix === '/' ? '' : route.prefix;
    scope.route({ method: METHODS, url: prefix || '/', config, handler });
    scope.route({ method: METHODS, url: `${prefix}/*`, config, handler });
  });
}
