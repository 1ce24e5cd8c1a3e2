import { SpanKind, type Context } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
import { ResponseBodyError } from 'openid-client';
import type { ExchangeConfig } from '../config/types.js';
import { errors } from '../errors.js';
import type { ExchangedTokenResponse, IdpClient } from '../oidc/idp-client.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { traced } from '../observability/tracing.js';
import type { ExchangedToken, LoadedSession } from '../session/session.js';
import type { Sessions } from '../session/sessions.js';
import { needsRefresh } from './freshness.js';
import type { RefreshLock } from './refresh-lock.js';
import type { SessionTokens } from './session-tokens.js';

// Tokens of routes with `exchange` (RFC 8693): the session's access token is the subject
// token, the result is kept in the session under `exchanged[<route>]` until it is due, marked
// with a hash of the subject token it was got for (once the session's token is refreshed, the
// next call exchanges again). One exchange per session and route however many calls and
// instances want it, by the refresh rules (session-tokens.ts):
//  - in this process, one pending promise per session, route and subject token;
//  - across instances, the session's own store lock: every writer of a session holds it, so
//    an exchange's write can never land between a refresh's re-read and its write (which
//    would make the refresh lose its rotated refresh token);
//  - holding the lock, re-read the session: another instance may have exchanged already;
//  - the write is a compare-and-set on the session version (a lost write only costs another
//    exchange later: nothing is spent);
//  - a caller that does not get the lock polls the store until the token is there, the lock
//    is free, or maxWaitMs pass (503).
// A refusal by the IdP (an OAuth error below 500) is 403 exchange_refused; anything else 503.

export interface ExchangeOptions {
  refreshBeforeMs: number;
  maxWaitMs: number;
}

/** What the session's token was exchanged for; also a route's key in `exchanged`. */
const hash = (value: string): string => createHash('sha256').update(value).digest('base64url').slice(0, 22);

export class ExchangedTokens {
  private readonly inflight = new Map<string, Promise<ExchangedToken>>();

  constructor(
    private readonly sessions: Sessions,
    private readonly tokens: SessionTokens,
    private readonly idp: IdpClient,
    private readonly lock: RefreshLock,
    private readonly metrics: GatewayMetrics,
    private readonly options: ExchangeOptions,
  ) {}

  /**
   * The route's exchanged token; `rejected`: one an upstream refused; `traceParent`: the
   * calling request's trace context (tracing on), the parent of a refresh's or an exchange's span.
   */
  async accessToken(session: LoadedSession, prefix: string, exchange: ExchangeConfig, rejected?: string, traceParent?: Context | null): Promise<string> {
    return (await this.token(session, prefix, exchange, rejected, traceParent)).accessToken;
  }

  async token(session: LoadedSession, prefix: string, exchange: ExchangeConfig, rejected?: string, traceParent?: Context | null): Promise<ExchangedToken> {
    // the subject token: the session's own, refreshed by the usual rules when due
    const subjectToken = await this.tokens.accessToken(session, { traceParent });
    const subject = hash(subjectToken);
    const route = hash(prefix);
    const usable = (token: ExchangedToken | undefined): token is ExchangedToken =>
      token !== undefined && token.subject === subject && !needsRefresh(token, this.options.refreshBeforeMs, rejected);
    const stored = session.data.exchanged?.[route];
    if (usable(stored)) return stored;

    const key = `${session.storeId} ${route} ${subject}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      const exchanging = () => this.exchangeUnderLock(session.storeId, route, exchange, subjectToken, usable);
      pending = traced('token.exchange', exchanging, undefined, SpanKind.INTERNAL, traceParent).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const token = await pending;
    // joined an exchange started by a caller content with the token an upstream refused
    if (rejected !== undefined && token.accessToken === rejected) {
      return this.exchangeUnderLock(session.storeId, route, exchange, subjectToken, usable);
    }
    return token;
  }

  private async exchangeUnderLock(
    storeId: string,
    route: string,
    exchange: ExchangeConfig,
    subjectToken: string,
    usable: (token: ExchangedToken | undefined) => token is ExchangedToken,
  ): Promise<ExchangedToken> {
    const started = Date.now();
    for (;;) {
      const lock = await this.lock.tryAcquire(storeId);
      if (lock) {
        let token: ExchangedToken | undefined;
        try {
          const current = await this.reread(storeId);
          const theirs = current.data.exchanged?.[route];
          if (usable(theirs)) {
            this.metrics.tokenRefresh.inc({ result: 'exchange_already_done' });
            return theirs;
          }
          const issued = await this.exchangeAtIdp(subjectToken, exchange, () => lock.stillHeld(), current);
          if (issued) {
            token = { ...issued, subject: hash(subjectToken) };
            const data = { ...current.data, exchanged: { ...current.data.exchanged, [route]: token } };
            // a lost write (version moved, store away) only costs another exchange later
            await this.sessions.replace(current, data).catch(() => null);
            this.metrics.tokenRefresh.inc({ result: 'exchange' });
            return token;
          }
          this.metrics.tokenRefresh.inc({ result: 'lease_lost' });
        } finally {
          await lock.release();
        }
      } else {
        // another holder (an exchange or a refresh of this session) is at work
        await this.lock.pause();
        const theirs = (await this.reread(storeId)).data.exchanged?.[route];
        if (usable(theirs)) return theirs;
      }
      if (Date.now() - started > this.options.maxWaitMs) {
        this.metrics.tokenRefresh.inc({ result: 'lock_timeout' });
        throw errors.tokenServiceUnavailable();
      }
      if (lock) await this.lock.pause();
    }
  }

  private async exchangeAtIdp(
    subjectToken: string,
    exchange: ExchangeConfig,
    confirm: () => Promise<boolean>,
    current: LoadedSession,
  ): Promise<ExchangedTokenResponse | undefined> {
    try {
      return await this.idp.exchangeToken(subjectToken, exchange, confirm, current.data.tokens.dpopKey);
    } catch (e) {
      if (e instanceof ResponseBodyError && e.status < 500) {
        this.metrics.tokenRefresh.inc({ result: 'exchange_refused' });
        throw errors.exchangeRefused({ cause: e });
      }
      this.metrics.tokenRefresh.inc({ result: 'error' });
      throw errors.tokenServiceUnavailable({ cause: e });
    }
  }

  private async reread(storeId: string): Promise<LoadedSession> {
    const current = await this.sessions.loadByStoreId(storeId);
    if (!current) throw errors.unauthenticated();
    return current;
  }
}
