import * as oidc from 'openid-client';
import type { TokenSourceConfig } from '../config/types.js';
import { TlsFetch, type FetchLike } from '../tls/tls-fetch.js';
import { JwtAssertions } from './jwt-assertion.js';

// The token endpoint of one token source, on openid-client: the source's grant (password,
// client_credentials or jwt_bearer, RFC 7523) and the refresh_token grant. A source names a token endpoint only, so
// the client configuration is static (no discovery). Nothing here touches the store.

/** What the token endpoint answered, in the gateway's terms. */
export interface ServiceTokenResponse {
  accessToken: string;
  /** epoch ms; undefined when the endpoint did not say */
  accessTokenExpiresAt?: number;
  refreshToken?: string;
}

const TOKEN_ENDPOINT_TIMEOUT_SECONDS = 10;
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** openid-client wants a client id; without one configured, none is ever sent (see clientAuth) */
const NO_CLIENT_ID = 'bff-gateway';

export class ServiceTokenClient {
  private readonly config: oidc.Configuration;
  /** tokenSources.<name>.tls: the source's CA and client certificate */
  private readonly tls: TlsFetch | undefined;
  private readonly assertions: JwtAssertions | undefined;

  constructor(private readonly source: TokenSourceConfig, name = 'token source') {
    const endpoint = new URL(source.tokenEndpoint);
    const server: oidc.ServerMetadata = { issuer: endpoint.origin, token_endpoint: endpoint.href };
    this.config = new oidc.Configuration(server, source.clientId ?? NO_CLIENT_ID, {}, clientAuth(source));
    this.config.timeout = TOKEN_ENDPOINT_TIMEOUT_SECONDS;
    if (endpoint.protocol === 'http:') oidc.allowInsecureRequests(this.config);
    this.tls = source.tls === undefined ? undefined : new TlsFetch(`tokenSources.${name}.tls`, source.tls);
    this.config[oidc.customFetch] = withoutIdToken(this.tls?.fetch ?? (fetch as FetchLike));
    if (source.assertion) this.assertions = new JwtAssertions(source.assertion, source.clientId);
  }

  async close(): Promise<void> {
    await this.tls?.close();
  }

  /** A new token with the source's own grant. */
  async grant(): Promise<ServiceTokenResponse> {
    const scope: Record<string, string> = this.source.scope === undefined ? {} : { scope: this.source.scope };
    if (this.source.grant === 'client_credentials') return issued(await oidc.clientCredentialsGrant(this.config, scope));
    if (this.assertions) {
      // a new short-lived assertion for every grant
      const params = { assertion: await this.assertions.sign(), ...scope };
      return issued(await oidc.genericGrantRequest(this.config, JWT_BEARER, params));
    }
    const credentials = { username: this.source.username ?? '', password: this.source.password ?? '', ...scope };
    return issued(await oidc.genericGrantRequest(this.config, 'password', credentials));
  }

  async refresh(refreshToken: string): Promise<ServiceTokenResponse> {
    return issued(await oidc.refreshTokenGrant(this.config, refreshToken));
  }
}

function issued(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): ServiceTokenResponse {
  const expiresIn = response.expiresIn();
  const tokens: ServiceTokenResponse = { accessToken: response.access_token };
  if (expiresIn !== undefined) tokens.accessTokenExpiresAt = Date.now() + expiresIn * 1000;
  if (response.refresh_token) tokens.refreshToken = response.refresh_token;
  return tokens;
}

/**
 * client_secret_basic with a secret; with a client id alone, the id in the body (none); with
 * neither, no client authentication at all, as Secret Server's password grant takes it.
 */
function clientAuth(source: TokenSourceConfig): oidc.ClientAuth {
  if (source.clientId === undefined) return () => {};
  if (source.clientSecret === undefined) return oidc.None();
  return oidc.ClientSecretBasic(source.clientSecret);
}

/**
 * A service account needs no ID token, and the issuer of one cannot be checked here (a token
 * source has no discovery), so an ID token in a successful answer is dropped unread rather
 * than failing the grant on an issuer mismatch.
 */
const withoutIdToken = (fetchImpl: FetchLike): oidc.CustomFetch => async (url, options) => {
  const response = await fetchImpl(url, options);
  if (!response.ok || !/json/i.test(response.headers.get('content-type') ?? '')) return response;
  const body: unknown = await response.json();
  if (typeof body === 'object' && body !== null) Reflect.deleteProperty(body, 'id_token');
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  headers.delete('content-encoding');
  return new Response(JSON.stringify(body), { status: response.status, statusText: response.statusText, headers });
};
