import type { LoginTransactions } from './auth/login-transactions.js';
import type { GatewayConfig } from './config/types.js';
import type { IdpClient } from './oidc/idp-client.js';
import type { LogoutTokenVerifier } from './oidc/logout-token.js';
import type { GatewayMetrics } from './observability/metrics.js';
import type { SessionCookies } from './session/cookies.js';
import type { SessionCache } from './session/session-cache.js';
import type { Sessions } from './session/sessions.js';
import type { UserSessions } from './session/user-sessions.js';
import type { SessionStore } from './store/store.js';
import type { ExchangedTokens } from './tokens/exchange.js';
import type { RefreshLock } from './tokens/refresh-lock.js';
import type { SessionTokens } from './tokens/session-tokens.js';

/** Tokens the gateway holds itself for backends (config `tokenSources`), by source name. */
export interface ServiceTokenProvider {
  /** A fresh access token of the source; `rejected` is one an upstream refused. */
  accessToken(source: string, rejected?: string): Promise<string>;
  close?(): Promise<void>;
}

/** What the endpoint plugins share; built once by buildApp. */
export interface GatewayContext {
  config: GatewayConfig;
  store: SessionStore;
  sessions: Sessions;
  sessionCache: SessionCache;
  /** a user's sessions: listing, ending, the cap per user, the counts */
  userSessions: UserSessions;
  cookies: SessionCookies;
  idp: IdpClient;
  logoutTokens: LogoutTokenVerifier;
  logins: LoginTransactions;
  tokens: SessionTokens;
  /** tokens of routes with `exchange` (RFC 8693) */
  exchanges: ExchangedTokens;
  refreshLock: RefreshLock;
  serviceTokens: ServiceTokenProvider;
  metrics: GatewayMetrics;
}
