import type { FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import type { DpopKey } from '../oidc/dpop.js';
import { requestSession, requireCsrfHeader } from '../session/request-session.js';

/**
 * The checks before a proxied call, in the contract's order: the CSRF header, the session,
 * then the token the route sends. Returns the access token to forward (undefined for
 * `token: none`, and for an anonymous caller on a route that does not require a session).
 * `rejected`: a token the upstream refused, to be replaced even if it is not expired.
 * `bound.dpopKey` is set to the session's DPoP key when the token forwarded is the session's
 * (a plain field of the call, not a map keyed by request: this runs on every proxied call).
 *
 * A session's token never goes out on a call without the `x-csrf: 1` header, whatever the
 * route's `csrf` says: a cross-site form can make the browser send the cookie, never the
 * header. Without it, a `requireSession: false` route forwards the call as anonymous (no
 * store read), and a route that requires the session refuses it (403).
 */
export async function authorize(
  ctx: GatewayContext,
  route: RouteConfig,
  request: FastifyRequest,
  bound: { dpopKey?: DpopKey },
  rejected?: string,
): Promise<string | undefined> {
  if (route.csrf) requireCsrfHeader(request);
  if (!route.requireSession && route.token !== 'session') {
    // the session would not be used: no store read
    return route.token === 'none' ? undefined : ctx.serviceTokens.accessToken(route.token, rejected);
  }
  if (route.token === 'session' && !route.csrf && request.headers['x-csrf'] !== '1') {
    if (!route.requireSession) return undefined;
    requireCsrfHeader(request); // throws
  }
  const session = await requestSession(ctx, request);
  if (!session && route.requireSession) throw errors.unauthenticated();
  if (route.token === 'none') return undefined;
  if (route.token !== 'session') return ctx.serviceTokens.accessToken(route.token, rejected);
  if (!session) return undefined;
  const dpopKey = session.data.tokens.dpopKey;
  if (dpopKey !== undefined) bound.dpopKey = dpopKey;
  // the route's handler runs outside any trace scope: a refresh or exchange is parented explicitly
  const traceParent = request.traceContext;
  if (route.exchange) return ctx.exchanges.accessToken(session, route.prefix, route.exchange, rejected, traceParent);
  return ctx.tokens.accessToken(session, route.scope === undefined ? { rejected, traceParent } : { scope: route.scope, rejected, traceParent });
}
