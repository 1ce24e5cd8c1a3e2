import type { TokenSet } from '../session/session.js';

/**
 * Whether an access token must be refreshed before use: it expires within the window, or
 * an upstream has just refused it (`rejected` is that token; once the stored token differs,
 * somebody already refreshed and the caller only needs to retry with the new one).
 */
export function needsRefresh(tokens: TokenSet, refreshBeforeMs: number, rejected?: string): boolean {
  if (rejected !== undefined && tokens.accessToken === rejected) return true;
  if (tokens.accessTokenExpiresAt === undefined) return false;
  return tokens.accessTokenExpiresAt - Date.now() <= refreshBeforeMs;
}
