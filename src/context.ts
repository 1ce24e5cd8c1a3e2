import type { LoginTransactions } from './auth/login-transactions.js';
import type { GatewayConfig } from './config/types.js';
import type { IdpClient } from './oidc/idp-client.js';
import type { GatewayMetrics } from './observability/metrics.js';
import type { SessionCookies } from './session/cookies.js';
import type { Sessions } from './session/sessions.js';
import type { SessionStore } from './store/store.js';
import type { SessionTokens } from './tokens/session-tokens.js';

/** What the endpoint plugins share; built once by buildApp. */
export interface GatewayContext {
  config: GatewayConfig;
  store: SessionStore;
  sessions: Sessions;
  cookies: SessionCookies;
  idp: IdpClient;
  logins: LoginTransactions;
  tokens: SessionTokens;
  metrics: GatewayMetrics;
}
