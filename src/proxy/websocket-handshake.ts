import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import type { OriginalRequest } from './forward-headers.js';
import { isInvalidTokenChallenge } from './replay.js';
import { authorizeUpgrade, type UpgradeGrant } from './websocket-authorize.js';
import { offeredProtocols, openUpstream, upstreamHandshakeHeaders, type HandshakeAnswer } from './websocket-upstream.js';

// The upstream's handshake for one upgrade, under rule 8 of a proxied call: an upstream 401
// with `WWW-Authenticate: Bearer error="invalid_token"`, on a route that sends a token and
// has `retryOn401`, gets one forced refresh and one more handshake with the new token. The
// refresh is authorizeUpgrade with the refused token, so the session is read again and the
// token comes through the same single-flight path as an HTTP replay (the lock across
// instances, the compare-and-set write; invalid_grant ends the session: 401
// session_expired). A handshake has no body, so it can always be sent again. The last
// answer is the caller's: the socket, or the 401 to pass on.

export interface HandshakeTarget {
  origin: URL;
  path: string;
  /** the forwarded view of the upgrade (trust-proxy.ts) */
  original: OriginalRequest;
}

export async function upstreamHandshake(
  app: FastifyInstance,
  ctx: GatewayContext,
  route: RouteConfig,
  request: IncomingMessage,
  target: HandshakeTarget,
  grant: UpgradeGrant,
): Promise<{ answer: HandshakeAnswer; grant: UpgradeGrant }> {
  const sendsToken = route.token !== 'none';
  const isOwnCookie = (name: string) => ctx.cookies.isOwn(name);
  const attempt = (accessToken: string | undefined) => {
    const headers = upstreamHandshakeHeaders(request, target.original, { isOwnCookie, sendsToken, accessToken });
    return openUpstream(target.origin, target.path, headers, offeredProtocols(request), route);
  };
  const first = await attempt(grant.token);
  const retries = route.retryOn401 && sendsToken && grant.token !== undefined;
  if (first.kind === 'open' || !retries || !isInvalidTokenChallenge(first.headers)) return { answer: first, grant };
  const renewed = await authorizeUpgrade(app, ctx, route, request, grant.token);
  app.log.info({ route: route.prefix }, 'upstream refused the access token of an upgrade (invalid_token): refreshed, trying once more');
  return { answer: await attempt(renewed.token), grant: renewed };
}
