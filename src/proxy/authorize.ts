import type { FastifyRequest } from 'fastify';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import type { DpopKey } from '../oidc/dpop.js';
import { requestSession, requireCsrfHeader } from '../session/request-session.js';
import { routeToken } from './route-token.js';

/**
 * The checks before a proxied call, in the contract's order: the CSRF header, the session,
 * then the token the route sends (route-token.ts, shared with WebSocket upgrades). Returns
 * the access token to forward (undefined for `token: none`, and for an anonymous caller on a
 * route that does not require a session).
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
    return routeToken(ctx, route, null, bound, { rejected });
  }
  if (route.token === 'session' && !route.csrf && request.headers['x-csrf'] !== '1') {
    if (!route.requireSession) return undefined;
    requireCsrfHeader(request); // throws
  }
  const session = await requestSession(ctx, request);
  if (!session && route.requireSession) throw errors.unauthenticated();
  // the route's handler runs outside any trace scope: a refresh or exchange is parented explicitly
  return routeToken(ctx, route, session, bound, { rejected, traceParent: request.traceContext });
}
