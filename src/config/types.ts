// The validated, normalised configuration. Durations are milliseconds, sizes are bytes.
// Every optional key of the YAML file has its default filled in by the schema, so the rest
// of the gateway never guesses.

export interface ServerConfig {
  host: string;
  port: number;
  /** origin the browser uses, without a trailing slash */
  publicUrl: string;
  trustProxy: boolean | string | number;
}

export interface SentinelConfig {
  name: string;
  nodes: string[]; // "host:port"
  password?: string;
  sentinelPassword?: string;
}

export interface ClusterConfig {
  nodes: string[]; // "host:port"
  password?: string;
}

export interface StoreConfig {
  /** a redis:// or rediss:// URL, or "memory"; absent when sentinel or cluster is used */
  url?: string;
  sentinel?: SentinelConfig;
  cluster?: ClusterConfig;
  keyPrefix: string;
}

export interface SessionConfig {
  cookieName: string;
  /** cookie signing secrets: the first signs, all verify */
  secrets: string[];
  /** 32-byte AES keys: the first encrypts, all decrypt */
  encryptionKeys: Buffer[];
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  sameSite: 'strict' | 'lax';
}

export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'none';

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  privateKeyFile?: string;
  scope: string;
  refreshBeforeMs: number;
  /** at most this many token endpoint requests in flight at once from one instance */
  tokenConcurrency: number;
  postLogoutRedirectUri?: string;
  /** DPoP (RFC 9449): the session's tokens are bound to a key pair of the session */
  dpop: boolean;
  /** Pushed Authorization Requests (RFC 9126) at login */
  par: boolean;
}

/** tokenSources.<name>.assertion: the JWT the gateway signs for grant jwt_bearer (RFC 7523) */
export interface JwtAssertionConfig {
  subject: string;
  audience: string;
  /** absolute path of a private JWK */
  keyFile: string;
  lifetimeMs: number;
}

export interface TokenSourceConfig {
  tokenEndpoint: string;
  grant: 'password' | 'client_credentials' | 'jwt_bearer';
  assertion?: JwtAssertionConfig;
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  scope?: string;
  maxRefreshes: number;
  refreshBeforeMs: number;
}

export interface SoapConfig {
  version: 'auto' | '1.1' | '1.2';
  inject: 'wsse' | 'header' | 'body';
  /** "{namespace-uri}local" or a local name */
  element: string;
  maxBytes: number;
  /** saml2: the route's exchanged SAML 2.0 assertion goes into wsse:Security as XML */
  tokenType?: 'saml2';
}

/** routes[].exchange: RFC 8693 token exchange for the route's own token */
export interface ExchangeConfig {
  audience: string;
  resource?: string;
  scope?: string;
  requestedTokenType: string;
}

export interface RouteConfig {
  prefix: string;
  upstream: string;
  rewritePrefix: string;
  /** "session", "none", or the name of a tokenSources entry */
  token: string;
  requireSession: boolean;
  scope?: string;
  csrf: boolean;
  retryOn401: boolean;
  timeoutMs: number;
  soap?: SoapConfig;
  exchange?: ExchangeConfig;
}

export interface GatewayConfig {
  server: ServerConfig;
  store: StoreConfig;
  session: SessionConfig;
  oidc: OidcConfig;
  tokenSources: Record<string, TokenSourceConfig>;
  routes: RouteConfig[];
}
