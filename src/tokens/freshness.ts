import type { AccessToken } from '../session/session.js';

/**
 * Whether an access token must be refreshed before use: there is none yet (a downscoped
 * token not fetched), it expires within the window, or an upstream has just refused it
 * (`rejected` is that token; once the stored token differs, somebody already refreshed and
 * the caller only needs to retry with the new one).
 */
export function needsRefresh(token: AccessToken | undefined, refreshBeforeMs: number, rejected?: string): boolean {
  if (!token) return true;
  if (rejected !== undefined && token.accessToken === rejected) return true;
  if (token.accessTokenExpiresAt === undefined) return false;
  return token.accessTokenExpiresAt - Date.now() <= refreshBeforeMs;
}
