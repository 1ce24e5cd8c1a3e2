// The validated, normalised configuration. Durations are milliseconds, sizes are bytes.
// Every optional key of the YAML file has its default filled in by the schema, so the rest
// of the gateway never guesses.

import type { DpopAlg } from '../oidc/dpop.js';

export interface ServerConfig {
  host: string;
  port: number;
  /** origin the browser uses, without a trailing slash */
  publicUrl: string;
  trustProxy: boolean | string | number;
  /** the whole request (head and body) must arrive within this, else 408 and the connection closes */
  requestTimeoutMs: number;
  /** open client connections at most; further ones are refused */
  maxConnections: number;
  /** the operators' listener: /metrics and /admin/* are served there, not on the public one */
  management?: { host: string; port: number };
  /** the Bearer token of /admin/*; without it /admin/* is off */
  adminToken?: string;
  /** Origin values accepted on WebSocket upgrades (default: the origin of publicUrl) */
  allowedOrigins: string[];
  /** serve HTTPS (server.tls) */
  tls?: ServerTlsConfig;
}

/** PEM files (absolute paths), checked at load; re-read on SIGHUP (src/tls/). */
export interface TlsFilesConfig {
  /** CA certificates to trust instead of Node's default store */
  ca?: string;
  /** a client certificate (mutual TLS), always with its key */
  cert?: string;
  key?: string;
  /** the name to send (SNI) and to check the server certificate against (routes only) */
  servername?: string;
}

export interface ServerTlsConfig {
  cert: string;
  key: string;
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
  tls?: TlsFilesConfig;
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
  /** a user's live sessions at most; a new login ends the oldest (0: no cap) */
  maxPerUser: number;
}

export type TokenEndpointAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'
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
  /** for every call to the IdP; its cert is the client certificate of tls_client_auth */
  tls?: TlsFilesConfig;
  /** DPoP (RFC 9449): the session's tokens are bound to a key pair of the session */
  dpop: boolean;
  /**
   * oidc.dpop: the kinds of key a new session may get, most wanted first; the first the IdP
   * lists in dpop_signing_alg_values_supported is taken, else ES256
   */
  dpopAlgs: DpopAlg[];
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
  tls?: TlsFilesConfig;
}

export interface SoapConfig {
  version: 'auto' | '1.1' | '1.2';
  inject: 'wsse' | 'header' | 'body';
  /** "{namespace-uri}local" or a local name */
  element: string;
  maxBytes: number;
  /** the operations (first child of Body) that may pass: local names or "{uri}local"; undefined: any */
  operations?: string[];
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
  /** upgrade requests under the prefix are proxied as WebSockets */
  websocket: boolean;
  /** the largest WebSocket message accepted either way (bytes); larger closes with 1009 */
  websocketMaxBytes: number;
  /** https:// upstreams: a private CA, a client certificate (mTLS), servername */
  tls?: TlsFilesConfig;
  exchange?: ExchangeConfig;
}

export interface TraceConfig {
  /** the OTLP/HTTP traces URL; absent: the standard OTEL_* variables */
  endpoint?: string;
  /** the share of new traces recorded (a continued trace follows its parent's choice) */
  sampleRatio: number;
}

export interface TelemetryConfig {
  traces?: TraceConfig;
}

export interface GatewayConfig {
  server: ServerConfig;
  store: StoreConfig;
  session: SessionConfig;
  oidc: OidcConfig;
  tokenSources: Record<string, TokenSourceConfig>;
  routes: RouteConfig[];
  telemetry: TelemetryConfig;
}
