import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import type { DpopKey } from '../oidc/dpop.js';
import type { LoadedSession } from '../session/session.js';
import { routeToken } from './route-token.js';

// The checks before an upgrade is proxied: those of proxy/authorize.ts for an HTTP call,
// except the x-csrf header, which a browser cannot put on an upgrade. The Origin check
// (websocket-upgrade.ts, before this) is the CSRF defence instead: a page of another origin
// can open a WebSocket with the user's cookies, but not with an allowed Origin.

export interface UpgradeGrant {
  /** the access token for the upstream handshake (undefined: none) */
  token: string | undefined;
  /** the session the socket was opened with: it closes when this session ends */
  session: LoadedSession | null;
  /** the DPoP key `token` is bound to (oidc.dpop): the handshake then carries a proof */
  dpopKey?: DpopKey;
}

/**
 * The token is the one an HTTP call on the route sends (route-token.ts: exchanged,
 * downscoped, the session's own, a service token or none), refreshed first when due through
 * the same single-flight paths. `rejected`: a token the upstream refused on the handshake
 * (invalid_token), to be replaced even if it is not expired; the session is read again
 * first, as authorize() does for a replay.
 */
export async function authorizeUpgrade(
  app: FastifyInstance,
  ctx: GatewayContext,
  route: RouteConfig,
  request: IncomingMessage,
  rejected?: string,
): Promise<UpgradeGrant> {
  const grant: UpgradeGrant = { token: undefined, session: null };
  // a route that neither requires the session nor sends its token: no store read
  if (route.requireSession || route.token === 'session') {
    grant.session = await upgradeSession(app, ctx, request);
    if (!grant.session && route.requireSession) throw errors.unauthenticated();
  }
  // an upgrade is not traced: no parent for a refresh's or an exchange's span
  grant.token = await routeToken(ctx, route, grant.session, grant, { rejected });
  return grant;
}

async function upgradeSession(app: FastifyInstance, ctx: GatewayContext, request: IncomingMessage): Promise<LoadedSession | null> {
  const header = request.headers.cookie;
  if (!header) return null;
  // SessionCookies reads only `cookies` and `unsignCookie` of a request; an upgrade has no
  // fastify request, so @fastify/cookie's instance methods stand in for them
  const cookieRequest = { cookies: app.parseCookie(header), unsignCookie: (value: string) => app.unsignCookie(value) };
  const sessionId = ctx.cookies.sessionId(cookieRequest as unknown as FastifyRequest);
  return sessionId ? ctx.sessions.load(sessionId) : null;
}
