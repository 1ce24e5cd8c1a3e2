import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import type { UpstreamDpop } from './dpop-call.js';
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
// answer is the caller's: the socket, or the 401 to pass on. With oidc.dpop, each handshake
// carries `Authorization: DPoP <token>` and a proof for it (dpop-call.ts: htm GET, htu the
// upstream URL of the handshake without query, ath), and an upstream's use_dpop_nonce
// challenge is answered once with its nonce, as on an HTTP call.

export interface HandshakeTarget {
  origin: URL;
  path: string;
  /** the forwarded view of the upgrade (trust-proxy.ts) */
  original: OriginalRequest;
  /** the route's upstream as a DPoP resource server (its last DPoP-Nonce) */
  dpop: UpstreamDpop;
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
  let nonceAnswered = false;
  const attempt = async (using: UpgradeGrant): Promise<HandshakeAnswer> => {
    const accessToken = using.token;
    const headers = upstreamHandshakeHeaders(request, target.original, { isOwnCookie, sendsToken, accessToken });
    // a DPoP-bound token goes as `DPoP <token>` with a proof for this GET (as on an HTTP call)
    const dpopKey = sendsToken && accessToken !== undefined ? using.dpopKey : undefined;
    const sentNonce = dpopKey && target.dpop.sign(headers, dpopKey, 'GET', target.path, accessToken!);
    const answer = await openUpstream(target.origin, target.path, headers, offeredProtocols(request), route);
    const status = answer.kind === 'open' ? 101 : answer.status;
    if (dpopKey && target.dpop.heard(status, answer.headers, sentNonce) && !nonceAnswered) {
      nonceAnswered = true; // a use_dpop_nonce challenge: once more with the nonce
      return attempt(using);
    }
    return answer;
  };
  const first = await attempt(grant);
  const retries = route.retryOn401 && sendsToken && grant.token !== undefined;
  if (first.kind === 'open' || !retries || !isInvalidTokenChallenge(first.headers)) return { answer: first, grant };
  const renewed = await authorizeUpgrade(app, ctx, route, request, grant.token);
  app.log.info({ route: route.prefix }, 'upstream refused the access token of an upgrade (invalid_token): refreshed, trying once more');
  return { answer: await attempt(renewed), grant: renewed };
}
