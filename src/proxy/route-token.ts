import type { RouteConfig } from '../config/types.js';
import type { GatewayContext } from '../context.js';
import type { DpopKey } from '../oidc/dpop.js';
import type { LoadedSession } from '../session/session.js';
import type { TokenWanted } from '../tokens/session-tokens.js';

// Which token a route sends, once the session rules have been applied: one function for HTTP
// calls (authorize.ts) and WebSocket upgrades (websocket-authorize.ts), so the two cannot
// drift apart (they did: upgrades once sent the session's main token on `exchange` routes).
//  - `token: none`: nothing;
//  - a token source's name: that service token (no session needed);
//  - `token: session`: nothing without a session; else the route's exchanged token
//    (`exchange`), its downscoped token (`scope`) or the session's own, each refreshed
//    first when due through its single-flight path.

/** What a caller asks of any route's token: the session's TokenWanted, less the scope the route sets. */
export type RouteTokenWanted = Omit<TokenWanted, 'scope'>;

/**
 * The access token `route` forwards for `session` (undefined: none). `bound.dpopKey` is set to
 * the session's DPoP key when the token is the session's (exchanged and downscoped ones are
 * bound to the same key): the caller then sends it as `DPoP <token>` with a proof. Not
 * async: on every proxied call, the token's own promise is returned as it is (or undefined).
 */
export function routeToken(
  ctx: GatewayContext,
  route: RouteConfig,
  session: LoadedSession | null,
  bound: { dpopKey?: DpopKey },
  wanted: RouteTokenWanted,
): Promise<string> | undefined {
  if (route.token === 'none') return undefined;
  if (route.token !== 'session') return ctx.serviceTokens.accessToken(route.token, wanted.rejected);
  if (!session) return undefined;
  const dpopKey = session.data.tokens.dpopKey;
  if (dpopKey !== undefined) bound.dpopKey = dpopKey;
  if (route.exchange) return ctx.exchanges.accessToken(session, route.prefix, route.exchange, wanted.rejected, wanted.traceParent);
  // `wanted` is a TokenWanted already: passed on as it is unless the route adds its scope
  return ctx.tokens.accessToken(session, route.scope === undefined ? wanted : { ...wanted, scope: route.scope });
}
