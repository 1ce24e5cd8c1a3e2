import type { DpopKey } from '../oidc/dpop.js';

// What a session holds. Serialised to JSON, then sealed by SessionCipher before it reaches
// the store; nothing here is ever written anywhere in plain text.

/** An access token and when it expires. */
export interface AccessToken {
  accessToken: string;
  /** epoch ms; undefined when the IdP did not say (then only an upstream 401 refreshes) */
  accessTokenExpiresAt?: number;
}

/** A token of a route with `exchange` (RFC 8693), got for one of the session's access tokens. */
export interface ExchangedToken extends AccessToken {
  /** a hash of the subject token it was got for: once the session's token is refreshed, it is stale */
  subject: string;
  /** the issued_token_type (an access token, or urn:ietf:params:oauth:token-type:saml2) */
  issuedTokenType?: string;
}

export interface TokenSet extends AccessToken {
  refreshToken?: string;
  idToken?: string;
  scope?: string;
  /** oidc.dpop: the session's private key (JWK) its tokens are bound to; never changes */
  dpopKey?: DpopKey;
}

export interface SessionData {
  sub: string;
  /** the IdP's session id (the ID token's sid), for back-channel logout */
  sid?: string;
  /** the subset of ID token claims /auth/user shows */
  claims: Record<string, unknown>;
  tokens: TokenSet;
  /**
   * Downscoped access tokens by scope (routes[].scope), got with the session's refresh
   * token; that refresh token (in `tokens`) keeps the grant's full scope.
   */
  scoped?: Record<string, AccessToken>;
  /** Tokens got by token exchange (routes[].exchange), by route (tokens/exchange.ts). */
  exchanged?: Record<string, ExchangedToken>;
  createdAt: number;
  /** when the gateway last refreshed a token of this session (epoch ms), and how many times; for /auth/user */
  refreshedAt?: number;
  refreshCount?: number;
}

/** A session as read from the store: its data plus the bookkeeping to write it back. */
export interface LoadedSession {
  /** the store id: a hash of the session id, never the id itself */
  storeId: string;
  version: number;
  absoluteExpiresAt: number;
  idleExpiresAt: number;
  data: SessionData;
}

/** Claims of the ID token that are protocol plumbing, not facts about the user. */
const PROTOCOL_CLAIMS = new Set([
  'iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'at_hash', 'c_hash', 's_hash', 'azp', 'auth_time', 'jti', 'sid',
]);

export function userClaims(claims: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
}
