import { ResponseBodyError } from 'openid-client';
import type { TokenSourceConfig } from '../config/types.js';
import type { ServiceTokenProvider } from '../context.js';
import { errors, type GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { SessionCipher } from '../session/cipher.js';
import { whileStoreAway } from '../store/retry.js';
import type { SessionStore } from '../store/store.js';
import { needsRefresh } from './freshness.js';
import type { HeldLock, RefreshLock } from './refresh-lock.js';
import { isInvalidGrant } from './issued-tokens.js';
import { ServiceTokenClient, type ServiceTokenResponse } from './service-token-client.js';
import { HeldTokens, tokenSourceStoreId, type HeldToken, type LoadedHeldToken } from './service-token-store.js';

// Tokens the gateway holds itself (config `tokenSources`), renewed so that a source makes
// ONE call to its token endpoint per renewal however many calls and instances want it:
//  - in this process, one pending promise per source (callers share it);
//  - across instances, the same store lock as session refreshes; the holder re-reads the
//    entry first and skips the renewal when another instance already did it;
//  - the new tokens are written with a compare-and-set on the entry's version.
// A renewal is a refresh_token grant while the source has a refresh token and fewer than
// `maxRefreshes` refreshes behind it; otherwise, or when the refresh is refused, a new grant
// with the source's own credentials (password or client_credentials).

export interface ServiceTokenDeps {
  store: SessionStore;
  cipher: SessionCipher;
  lock: RefreshLock;
  metrics: GatewayMetrics;
}

export interface ServiceTokenOptions {
  /** how long a caller waits for another instance's renewal before giving up (503) */
  maxWaitMs: number;
  /** how long the write of new tokens is retried while the store is away */
  writeRetryMs: number;
}

interface Source {
  name: string;
  settings: TokenSourceConfig;
  client: ServiceTokenClient;
  storeId: string;
}

export class ServiceTokens implements ServiceTokenProvider {
  private readonly sources = new Map<string, Source>();
  private readonly held: HeldTokens;
  private readonly inflight = new Map<string, Promise<HeldToken>>();
  /** the last token this process saw per source: a fresh one costs no store read */
  private readonly latest = new Map<string, HeldToken>();

  constructor(
    sources: Record<string, TokenSourceConfig>,
    private readonly deps: ServiceTokenDeps,
    private readonly options: ServiceTokenOptions,
  ) {
    for (const [name, settings] of Object.entries(sources)) {
      this.sources.set(name, { name, settings, client: new ServiceTokenClient(settings, name), storeId: tokenSourceStoreId(name) });
    }
    this.held = new HeldTokens(deps.store, deps.cipher);
  }

  async accessToken(name: string, rejected?: string): Promise<string> {
    const source = this.sources.get(name);
    // config validation makes this unreachable: routes only name defined sources
    if (!source) throw errors.internal({ cause: new Error(`no token source "${name}"`) });
    const latest = this.latest.get(name);
    if (latest && !this.due(source, latest, rejected)) return latest.accessToken;
    let pending = this.inflight.get(name);
    if (!pending) {
      pending = this.renewUnderLock(name, source, rejected).finally(() => this.inflight.delete(name));
      this.inflight.set(name, pending);
    }
    return (await pending).accessToken;
  }

  async close(): Promise<void> {
    this.latest.clear();
    for (const source of this.sources.values()) await source.client.close();
  }

  private due(source: Source, token: HeldToken, rejected?: string): boolean {
    return needsRefresh(token, source.settings.refreshBeforeMs, rejected);
  }

  /**
   * A token written by another instance while we waited is taken even when it is already
   * within refreshBefore (a short-lived token would otherwise be renewed once per waiter),
   * as long as it has not expired and is not the one the upstream refused.
   */
  private renewedMeanwhile(current: LoadedHeldToken, seenVersion: number, rejected?: string): boolean {
    if (current.version === seenVersion || current.data.accessToken === rejected) return false;
    const expiresAt = current.data.accessTokenExpiresAt;
    return expiresAt === undefined || expiresAt > Date.now();
  }

  private remember(name: string, token: HeldToken): HeldToken {
    this.latest.set(name, token);
    return token;
  }

  private async renewUnderLock(name: string, source: Source, rejected?: string): Promise<HeldToken> {
    const started = Date.now();
    const first = await this.held.read(source.storeId);
    if (first && !this.due(source, first.data, rejected)) return this.remember(name, first.data);
    const seenVersion = first?.version ?? 0;
    for (;;) {
      const lock = await this.deps.lock.tryAcquire(source.storeId);
      if (lock) {
        this.deps.metrics.refreshLockWait.observe((Date.now() - started) / 1000);
        try {
          const renewed = await this.renewHolding(source, lock, seenVersion, rejected);
          if (renewed) return this.remember(name, renewed);
        } finally {
          await lock.release();
        }
      }
      // another instance is renewing (or our lease was not confirmed): look again shortly
      await this.deps.lock.pause();
      const current = await this.held.read(source.storeId);
      if (current && (!this.due(source, current.data, rejected) || this.renewedMeanwhile(current, seenVersion, rejected))) {
        this.deps.metrics.refreshLockWait.observe((Date.now() - started) / 1000);
        return this.remember(name, current.data);
      }
      if (Date.now() - started > this.options.maxWaitMs) {
        this.count('lock_timeout');
        throw errors.tokenServiceUnavailable();
      }
    }
  }

  /** Undefined when the lease was lost before the refresh token was spent: the caller starts over. */
  private async renewHolding(
    source: Source,
    lock: HeldLock,
    seenVersion: number,
    rejected?: string,
  ): Promise<HeldToken | undefined> {
    const current = await this.held.read(source.storeId);
    if (current && (!this.due(source, current.data, rejected) || this.renewedMeanwhile(current, seenVersion, rejected))) {
      this.count('already_renewed');
      return current.data;
    }
    // as for session tokens: a holder paused past its lease must not spend a refresh token
    // that the next holder may already have rotated
    if (!(await lock.stillHeld())) {
      this.count('lease_lost');
      return undefined;
    }
    const next = await this.obtain(source, current?.data);
    // a refresh token was just spent: its successor must not be dropped for a store hiccup
    const written = await whileStoreAway(() => this.held.write(source.storeId, current, next), this.options.writeRetryMs);
    if (written) return next;
    // the version moved under us (our lease ran out while the store was away and another
    // holder wrote first): the stored token stands; ours is valid too, but not kept
    this.count('conflict');
    return (await this.held.read(source.storeId))?.data ?? next;
  }

  /** New tokens: a refresh while allowed and accepted, else the source's own grant. */
  private async obtain(source: Source, held: HeldToken | undefined): Promise<HeldToken> {
    const { settings, client } = source;
    if (held?.refreshToken !== undefined && held.refreshes < settings.maxRefreshes) {
      try {
        const response = await client.refresh(held.refreshToken);
        this.count('refresh');
        return heldToken(response, held.refreshes + 1, held.refreshToken);
      } catch (e) {
        if (!isInvalidGrant(e)) {
          this.count('error');
          throw unavailable(source, 'refresh', e);
        }
        // refused (consumed, revoked, expired): authenticate again below
        this.count('refresh_refused');
      }
    }
    try {
      const response = await client.grant();
      this.count('grant');
      return heldToken(response, 0);
    } catch (e) {
      this.count('error');
      throw unavailable(source, settings.grant, e);
    }
  }

  private count(result: string): void {
    this.deps.metrics.tokenRefresh.inc({ result: `service_${result}` });
  }
}

/** 503 token_service_unavailable; its cause (logged) names the source and the OAuth error, never a secret. */
function unavailable(source: Source, grant: string, e: unknown): GatewayError {
  const oauthError = e instanceof ResponseBodyError ? ` (${e.error})` : '';
  const cause = new Error(`token source "${source.name}": the ${grant} grant failed${oauthError}`, { cause: e });
  return errors.tokenServiceUnavailable({ cause });
}

/** The held form of a token endpoint answer; an endpoint that does not rotate keeps the old refresh token. */
function heldToken(response: ServiceTokenResponse, refreshes: number, previousRefreshToken?: string): HeldToken {
  const token: HeldToken = { kind: 'token-source', accessToken: response.accessToken, refreshes };
  if (response.accessTokenExpiresAt !== undefined) token.accessTokenExpiresAt = response.accessTokenExpiresAt;
  const refreshToken = response.refreshToken ?? previousRefreshToken;
  if (refreshToken !== undefined) token.refreshToken = refreshToken;
  return token;
}
