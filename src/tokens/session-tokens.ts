import { ResponseBodyError } from 'openid-client';
import { errors, GatewayError } from '../errors.js';
import type { IdpClient, IssuedTokens } from '../oidc/idp-client.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { LoadedSession, TokenSet } from '../session/session.js';
import type { Sessions } from '../session/sessions.js';
import { needsRefresh } from './freshness.js';
import type { RefreshLock } from './refresh-lock.js';

// Access tokens of user sessions, refreshed so that one session makes ONE refresh call per
// rotation however many calls and instances want it at once:
//  - in this process, one pending promise per session (callers share it);
//  - across instances, the store lock; the holder re-reads the session first and skips the
//    refresh when another instance already did it;
//  - the new tokens are written with a compare-and-set on the session version, so a stale
//    writer can never put back a consumed refresh token;
//  - invalid_grant ends the session only after a re-read shows nobody rotated meanwhile.

export interface SessionTokenOptions {
  refreshBeforeMs: number;
  /** how long a caller waits for another instance's refresh before giving up (503) */
  maxWaitMs: number;
}

export class SessionTokens {
  private readonly inflight = new Map<string, Promise<LoadedSession>>();

  constructor(
    private readonly sessions: Sessions,
    private readonly idp: IdpClient,
    private readonly lock: RefreshLock,
    private readonly metrics: GatewayMetrics,
    private readonly options: SessionTokenOptions,
  ) {}

  /**
   * The session with an access token fit to send: as it is when fresh, else refreshed.
   * `rejected`: an access token an upstream refused, to be replaced even if not expired.
   */
  async fresh(session: LoadedSession, rejected?: string): Promise<LoadedSession> {
    if (!needsRefresh(session.data.tokens, this.options.refreshBeforeMs, rejected)) return session;
    const id = session.storeId;
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.refreshUnderLock(session, rejected).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private async refreshUnderLock(session: LoadedSession, rejected?: string): Promise<LoadedSession> {
    const started = Date.now();
    for (;;) {
      const lock = await this.lock.tryAcquire(session.storeId);
      if (lock) {
        this.metrics.refreshLockWait.observe((Date.now() - started) / 1000);
        try {
          return await this.refreshHolding(session.storeId, rejected);
        } finally {
          await lock.release();
        }
      }
      // another instance is refreshing: wait for its result to appear in the store
      await this.lock.pause();
      const current = await this.reread(session.storeId);
      if (!needsRefresh(current.data.tokens, this.options.refreshBeforeMs, rejected)) {
        this.metrics.refreshLockWait.observe((Date.now() - started) / 1000);
        return current;
      }
      if (Date.now() - started > this.options.maxWaitMs) {
        this.metrics.tokenRefresh.inc({ result: 'lock_timeout' });
        throw this.unavailable();
      }
    }
  }

  private async refreshHolding(storeId: string, rejected?: string): Promise<LoadedSession> {
    const current = await this.reread(storeId);
    if (!needsRefresh(current.data.tokens, this.options.refreshBeforeMs, rejected)) {
      this.metrics.tokenRefresh.inc({ result: 'already_refreshed' });
      return current;
    }
    const refreshToken = current.data.tokens.refreshToken;
    if (!refreshToken) return this.endSession(current, 'no_refresh_token');

    let issued: IssuedTokens;
    try {
      issued = await this.idp.refresh(refreshToken);
    } catch (e) {
      if (!isInvalidGrant(e)) {
        this.metrics.tokenRefresh.inc({ result: 'error' });
        throw this.unavailable(e);
      }
      // refused: unless someone rotated meanwhile (then their tokens stand), the grant is over
      const after = await this.sessions.loadByStoreId(storeId);
      if (after && after.version !== current.version) return after;
      if (!after) throw errors.sessionExpired();
      return this.endSession(after, 'invalid_grant');
    }

    const written = await this.sessions.replace(current, {
      ...current.data,
      tokens: merge(current.data.tokens, issued),
    });
    if (written) {
      this.metrics.tokenRefresh.inc({ result: 'success' });
      return written;
    }
    // the version moved under us (our lease ran out while the store was away and another
    // holder wrote first): the stored session is the truth, ours is discarded
    this.metrics.tokenRefresh.inc({ result: 'conflict' });
    return this.reread(storeId);
  }

  private async endSession(session: LoadedSession, result: string): Promise<never> {
    this.metrics.tokenRefresh.inc({ result });
    await this.sessions.delete(session.storeId);
    throw errors.sessionExpired();
  }

  private async reread(storeId: string): Promise<LoadedSession> {
    const current = await this.sessions.loadByStoreId(storeId);
    if (!current) throw errors.unauthenticated();
    return current;
  }

  private unavailable(cause?: unknown): GatewayError {
    return errors.tokenServiceUnavailable({ cause });
  }
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
  return tokens;
}

export function isInvalidGrant(e: unknown): boolean {
  return e instanceof ResponseBodyError && e.error === 'invalid_grant';
}
