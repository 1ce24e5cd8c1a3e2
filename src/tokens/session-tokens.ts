import { SpanKind, type Context } from '@opentelemetry/api';
import { errors, StoreUnavailableError } from '../errors.js';
import type { IdpClient, IssuedTokens } from '../oidc/idp-client.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { traced, traceEvent, tracingOn } from '../observability/tracing.js';
import type { AccessToken, LoadedSession, SessionData } from '../session/session.js';
import type { Sessions } from '../session/sessions.js';
import { needsRefresh } from './freshness.js';
import { isInvalidGrant, withIssued } from './issued-tokens.js';
import type { HeldLock, RefreshLock } from './refresh-lock.js';
import { Successors } from './successors.js';

// Access tokens of user sessions, refreshed so that one session makes ONE refresh call per
// rotation however many calls and instances want it at once:
//  - in this process, one pending promise per session and scope (callers share it), and the
//    result kept a few seconds for callers whose copy of the session is already stale;
//  - across instances, the store lock (one per session: the main and the downscoped tokens
//    share one refresh token); the holder re-reads the session first and skips the refresh
//    when another instance already did it;
//  - the new tokens are written with a compare-and-set on the session version, so a stale
//    writer can never put back a consumed refresh token;
//  - invalid_grant ends the session only after a re-read shows nobody rotated meanwhile.

export interface SessionTokenOptions {
  refreshBeforeMs: number;
  /** how long a caller waits for another instance's refresh before giving up (503) */
  maxWaitMs: number;
  /** how long a refresh result stays at hand for late callers */
  successorTtlMs: number;
  /** how long the write of freshly refreshed tokens is retried while the store is away */
  writeRetryMs: number;
}

export interface TokenWanted {
  /** a downscoped token for this scope instead of the session's main access token */
  scope?: string;
  /** an access token an upstream refused: replaced even if it is not expired */
  rejected?: string;
  /** the calling request's trace context: the parent of a refresh's span (tracing on) */
  traceParent?: Context | null;
}

/** One refresh in flight per session and scope. */
const inflightKey = (storeId: string, scope: string | undefined) => (scope === undefined ? storeId : `${storeId} ${scope}`);

/** The access token a request wants: the main one, or the downscoped one of a scope. */
function wantedToken(data: SessionData, scope: string | undefined): AccessToken | undefined {
  return scope === undefined ? data.tokens : data.scoped?.[scope];
}

export class SessionTokens {
  private readonly inflight = new Map<string, Promise<AccessToken>>();
  /** sessions whose refreshed tokens are still being written while the store is away */
  private readonly unwritten = new Set<string>();
  private readonly successors: Successors;

  constructor(
    private readonly sessions: Sessions,
    private readonly idp: IdpClient,
    private readonly lock: RefreshLock,
    private readonly metrics: GatewayMetrics,
    private readonly options: SessionTokenOptions,
  ) {
    this.successors = new Successors(options.successorTtlMs);
  }

  /** An access token fit to send: the stored one when fresh, else a refreshed one. */
  async accessToken(session: LoadedSession, wanted: TokenWanted = {}): Promise<string> {
    const { scope, rejected, traceParent } = wanted;
    const stale = (token: AccessToken | undefined) => needsRefresh(token, this.options.refreshBeforeMs, rejected);
    const stored = wantedToken(session.data, scope);
    if (!stale(stored)) return stored!.accessToken;
    const key = inflightKey(session.storeId, scope);
    const successor = this.successors.find(key, session.version);
    if (successor && !stale(successor)) return successor.accessToken;

    let pending = this.inflight.get(key);
    if (!pending) {
      const refresh = () => this.refreshUnderLock(session.storeId, scope, stale);
      pending = (tracingOn() ? traced('token.refresh', refresh, { 'bff.token.downscoped': scope !== undefined }, SpanKind.INTERNAL, traceParent) : refresh()).finally(() =>
        this.inflight.delete(key),
      );
      this.inflight.set(key, pending);
    }
    const token = await pending;
    // joined a refresh started by a caller that had no quarrel with the token an upstream
    // refused to this one (it found it fresh): this caller needs a refresh of its own
    if (rejected !== undefined && token.accessToken === rejected) {
      return (await this.refreshUnderLock(session.storeId, scope, stale)).accessToken;
    }
    return token.accessToken;
  }

  private async refreshUnderLock(
    storeId: string,
    scope: string | undefined,
    stale: (token: AccessToken | undefined) => boolean,
  ): Promise<AccessToken> {
    // its old refresh token is spent and the new one not yet stored: nothing to do but wait
    if (this.unwritten.has(storeId)) throw new StoreUnavailableError(new Error('refreshed tokens still being written'));
    const started = Date.now();
    const waited = () => {
      this.metrics.refreshLockWait.observe((Date.now() - started) / 1000);
      traceEvent('refresh.lock_wait_ended', { 'bff.lock.wait_ms': Date.now() - started });
    };
    for (;;) {
      const lock = await this.lock.tryAcquire(storeId);
      if (lock) {
        waited();
        let writing: Promise<unknown> | undefined;
        try {
          const token = await this.refreshHolding(lock, storeId, scope, stale, (write) => (writing = write));
          if (token) return token;
        } finally {
          // a write still going on keeps the lock until it lands (or gives up)
          if (writing) void writing.finally(() => lock.release());
          else await lock.release();
        }
        // the lease was lost (or not confirmed) before the refresh token was spent: start
        // over after a pause, within the bound
        if (Date.now() - started > this.options.maxWaitMs) throw this.waitedTooLong();
        await this.lock.pause();
        continue;
      }
      // another instance is refreshing: wait for its result to appear in the store
      traceEvent('refresh.lock_busy');
      await this.lock.pause();
      const current = wantedToken((await this.reread(storeId)).data, scope);
      if (!stale(current)) {
        waited();
        return current!;
      }
      if (Date.now() - started > this.options.maxWaitMs) throw this.waitedTooLong();
    }
  }

  /** The refreshed token; undefined when the lease was lost before anything was spent. */
  private async refreshHolding(
    lock: HeldLock,
    storeId: string,
    scope: string | undefined,
    stale: (token: AccessToken | undefined) => boolean,
    writingOn: (write: Promise<unknown>) => void,
  ): Promise<AccessToken | undefined> {
    const current = await this.reread(storeId);
    const before = wantedToken(current.data, scope);
    if (!stale(before)) {
      this.metrics.tokenRefresh.inc({ result: 'already_refreshed' });
      return before!;
    }
    const refreshToken = current.data.tokens.refreshToken;
    if (!refreshToken) return this.endSession(current, 'no_refresh_token');

    let issued: IssuedTokens | undefined;
    try {
      // the lease is confirmed once the request has its place under oidc.tokenConcurrency,
      // right before the refresh token is spent
      issued = await this.idp.refresh(refreshToken, scope, () => lock.stillHeld(), current.data.tokens.dpopKey);
    } catch (e) {
      if (!isInvalidGrant(e)) {
        this.metrics.tokenRefresh.inc({ result: 'error' });
        throw errors.tokenServiceUnavailable({ cause: e });
      }
      // refused: unless someone rotated meanwhile (then their tokens stand), the grant is over
      const after = await this.sessions.loadByStoreId(storeId);
      if (!after) throw errors.sessionExpired();
      if (after.version === current.version) return this.endSession(after, 'invalid_grant');
      // somebody wrote meanwhile: their tokens stand; the next call refreshes with them
      const theirs = wantedToken(after.data, scope);
      if (!stale(theirs)) return theirs!;
      this.metrics.tokenRefresh.inc({ result: 'conflict' });
      throw errors.tokenServiceUnavailable({ cause: e });
    }
    if (!issued) {
      this.metrics.tokenRefresh.inc({ result: 'lease_lost' });
      return undefined;
    }

    const data = withIssued(current.data, issued, scope);
    // callers here that still hold the old version get the new token without a refresh
    this.successors.remember(inflightKey(storeId, scope), current.version, wantedToken(data, scope)!);
    const written = await this.persist(current, data, writingOn);
    if (written) {
      this.metrics.tokenRefresh.inc({ result: 'success' });
      return wantedToken(written.data, scope)!;
    }
    // the version moved under us (our lease ran out while the store was away and another
    // holder wrote first): the stored session is the truth, ours is discarded
    this.metrics.tokenRefresh.inc({ result: 'conflict' });
    const truth = wantedToken((await this.reread(storeId)).data, scope);
    if (stale(truth)) throw errors.tokenServiceUnavailable();
    return truth!;
  }

  /**
   * Write refreshed tokens. The refresh token they replace is spent, so this write must land:
   * while the store is away it is retried for writeRetryMs in the background, holding the
   * lock, and the caller gets 503 at once instead of waiting it out.
   */
  private persist(
    current: LoadedSession,
    data: SessionData,
    writingOn: (write: Promise<unknown>) => void,
  ): Promise<LoadedSession | null> {
    return new Promise((resolve, reject) => {
      const storeId = current.storeId;
      const write = this.sessions.replace(current, data, {
        retryForMs: this.options.writeRetryMs,
        onStoreAway: (error) => {
          this.unwritten.add(storeId);
          const settled = write.then(
            (written) => this.metrics.tokenRefresh.inc({ result: written ? 'success_late' : 'conflict' }),
            () => this.metrics.tokenRefresh.inc({ result: 'write_failed' }),
          );
          writingOn(settled.finally(() => this.unwritten.delete(storeId)));
          reject(error);
        },
      });
      write.then(resolve, reject);
    });
  }

  private async endSession(session: LoadedSession, result: string): Promise<never> {
    this.metrics.tokenRefresh.inc({ result });
    await this.sessions.delete(session.storeId);
    throw errors.sessionExpired();
  }

  private waitedTooLong(): Error {
    this.metrics.tokenRefresh.inc({ result: 'lock_timeout' });
    return errors.tokenServiceUnavailable();
  }

  private async reread(storeId: string): Promise<LoadedSession> {
    const current = await this.sessions.loadByStoreId(storeId);
    if (!current) throw errors.unauthenticated();
    return current;
  }
}
