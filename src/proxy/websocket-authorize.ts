import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import { errors } from '../errors.js';
import type { LoadedSession } from '../session/session.js';

// The checks before an upgrade is proxied: those of proxy/authorize.ts for an HTTP call,
// except the x-csrf header, which a browser cannot put on an upgrade. The Origin check
// (websocket-upgrade.ts, before this) is the CSRF defence instead: a page of another origin
// can open a WebSocket with the user's cookies, but not with an allowed Origin.

export interface UpgradeGrant {
  /** the access token for the upstream handshake (undefined: none) */
  token: string | undefined;
  /** the session the socket was opened with: it closes when this session ends */
  session: LoadedSession | null;
}

/**
 * `rejected`: a token the upstream refused on the handshake (invalid_token), to be replaced
 * even if it is not expired; the session is read again first, as authorize() does for a replay.
 */
export async function authorizeUpgrade(
  app: FastifyInstance,
  ctx: GatewayContext,
  route: RouteConfig,
  request: IncomingMessage,
  rejected?: string,
): Promise<UpgradeGrant> {
  if (!route.requireSession && route.token !== 'session') {
    const token = route.token === 'none' ? undefined : await ctx.serviceTokens.accessToken(route.token, rejected);
    return { token, session: null };
  }
  const session = await upgradeSession(app, ctx, request);
  if (!session && route.requireSession) throw errors.unauthenticated();
  if (!session || route.token === 'none') return { token: undefined, session };
  if (route.token !== 'session') return { token: await ctx.serviceTokens.accessToken(route.token, rejected), session };
  // refreshed first when due (or forced, for a rejected token), through the same
  // single-flight path as every call
  const token = await ctx.tokens.accessToken(session, route.scope === undefined ? { rejected } : { scope: route.scope, rejected });
  return { token, session };
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
