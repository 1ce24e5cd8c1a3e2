import { ResponseBodyError } from 'openid-client';
import type { IssuedTokens } from '../oidc/idp-client.js';
import type { AccessToken, SessionData, TokenSet } from '../session/session.js';

// What a token endpoint answer does to the tokens a session holds, and how to tell that the
// endpoint refused the grant itself (the one failure that ends a session).

/**
 * The session after a refresh. A main refresh replaces the main tokens; a downscoped one only
 * its scope's access token. Either way the rotated refresh token (which keeps the grant's
 * full scope) replaces the consumed one.
 */
export function withIssued(data: SessionData, issued: IssuedTokens, scope: string | undefined): SessionData {
  // shown by /auth/user (never a token): when, and how many refreshes so far
  const refreshed = { refreshedAt: Date.now(), refreshCount: (data.refreshCount ?? 0) + 1 };
  if (scope === undefined) return { ...data, ...refreshed, tokens: merge(data.tokens, issued) };
  const token: AccessToken = { accessToken: issued.accessToken };
  if (issued.accessTokenExpiresAt !== undefined) token.accessTokenExpiresAt = issued.accessTokenExpiresAt;
  const tokens: TokenSet = { ...data.tokens };
  if (issued.refreshToken !== undefined) tokens.refreshToken = issued.refreshToken;
  return { ...data, ...refreshed, tokens, scoped: { ...data.scoped, [scope]: token } };
}

/** The new tokens over the old: an IdP that does not rotate leaves the refresh token as it was. */
export function merge(old: TokenSet, issued: IssuedTokens): TokenSet {
  const tokens: TokenSet = { accessToken: issued.accessToken };
  if (issued.accessTokenExpiresAt !== undefined) tokens.accessTokenExpiresAt = issued.accessTokenExpiresAt;
  const refreshToken = issued.refreshToken ?? old.refreshToken;
  const idToken = issued.idToken ?? old.idToken;
  const scope = issued.scope ?? old.scope;
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  if (idToken !== undefined) tokens.idToken = idToken;
  if (scope !== undefined) tokens.scope = scope;
  // the session's DPoP key outlives every refresh: the new tokens are bound to it too
  const dpopKey = issued.dpopKey ?? old.dpopKey;
  if (dpopKey !== undefined) tokens.dpopKey = dpopKey;
  return tokens;
}

/** The token endpoint refused the grant (a consumed, revoked or expired refresh token, bad credentials). */
export function isInvalidGrant(e: unknown): boolean {
  return e instanceof ResponseBodyError && e.error === 'invalid_grant';
}
