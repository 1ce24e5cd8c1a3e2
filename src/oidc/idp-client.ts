import { readFile } from 'node:fs/promises';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { OidcConfig } from '../config/types.js';
import { TlsFetch, type FetchLike } from '../tls/tls-fetch.js';
import { dpopAlg, newDpopKey, type DpopAlg, type DpopKey } from './dpop.js';
import { DpopHandles } from './dpop-handles.js';
import { TokenConcurrency } from './token-concurrency.js';
import { tracedFetch } from './traced-fetch.js';

// The gateway's side of OpenID Connect, on openid-client: discovery, the authorization
// URL, code exchange with ID token validation, refresh, revocation and the logout URL.
// Nothing here touches sessions or HTTP requests of the gateway.

/** What the IdP answered to a token request, in the gateway's terms. */
export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt?: number;
  refreshToken?: string;
  idToken?: string;
  scope?: string;
  /** the validated ID token's claims, when one came */
  claims?: Record<string, unknown>;
  /** oidc.dpop: the session's key pair the tokens are bound to (set by the code exchange) */
  dpopKey?: DpopKey;
}

/** What a route asks for in a token exchange (routes[].exchange). */
export interface TokenExchangeRequest {
  audience: string;
  resource?: string;
  scope?: string;
  requestedTokenType: string;
}

export interface ExchangedTokenResponse {
  accessToken: string;
  accessTokenExpiresAt?: number;
  issuedTokenType?: string;
}

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface LoginChecks {
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** Raised when the issuer cannot be discovered at start-up; names the URL. */
export class DiscoveryError extends Error {
  readonly code = 'discovery_failed';
  constructor(readonly url: string, cause: unknown) {
    super(`OpenID Connect discovery failed for ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

const IDP_TIMEOUT_SECONDS = 10;

export class IdpClient {
  /** every token endpoint request (code exchange, refresh) runs under this cap */
  readonly tokenRequests: TokenConcurrency;
  private readonly dpop: DpopHandles;
  /** oidc.dpop: the kind of key pair a new session gets (from the IdP's metadata and oidc.dpopAlgs) */
  readonly dpopAlg: DpopAlg;

  private constructor(
    private readonly config: oidc.Configuration,
    private readonly settings: OidcConfig,
    readonly redirectUri: string,
    private readonly tls?: TlsFetch,
  ) {
    this.tokenRequests = new TokenConcurrency(settings.tokenConcurrency);
    this.dpop = new DpopHandles(config);
    this.dpopAlg = dpopAlg(config.serverMetadata().dpop_signing_alg_values_supported, settings.dpopAlgs);
  }

  static async discover(settings: OidcConfig, publicUrl: string): Promise<IdpClient> {
    const issuer = new URL(settings.issuer);
    const options: oidc.DiscoveryRequestOptions = { timeout: IDP_TIMEOUT_SECONDS };
    if (issuer.protocol === 'http:') options.execute = [oidc.allowInsecureRequests];
    // oidc.tls: every call to the IdP (discovery, JWKS, token, revocation) with its CA and
    // client certificate (the one RFC 8705 client authentication presents)
    const tls = settings.tls === undefined ? undefined : new TlsFetch('oidc.tls', settings.tls);
    // with tracing on, a span per call around it (traced-fetch.ts)
    const fetchImpl = tracedFetch(tls?.fetch as oidc.CustomFetch | undefined);
    if (fetchImpl) options[oidc.customFetch] = fetchImpl;
    let config: oidc.Configuration;
    try {
      const metadata: Partial<oidc.ClientMetadata> = { token_endpoint_auth_method: settings.tokenEndpointAuthMethod };
      if (settings.tokenEndpointAuthMethod.endsWith('tls_client_auth')) metadata.use_mtls_endpoint_aliases = true;
      config = await oidc.discovery(issuer, settings.clientId, metadata, await clientAuth(settings), options);
    } catch (e) {
      await tls?.close();
      throw new DiscoveryError(new URL('.well-known/openid-configuration', withSlash(issuer)).href, e);
    }
    config.timeout = IDP_TIMEOUT_SECONDS;
    if (fetchImpl) config[oidc.customFetch] = fetchImpl;
    return new IdpClient(config, settings, `${publicUrl}/auth/callback`, tls);
  }

  /** The fetch every IdP call uses (the logout token's JWKS too); undefined: the global one. */
  get fetch(): FetchLike | undefined {
    return this.tls?.fetch;
  }

  async close(): Promise<void> {
    await this.tls?.close();
  }

  get metadata(): Readonly<oidc.ServerMetadata> {
    return this.config.serverMetadata();
  }

  /** With oidc.par the request is pushed by back channel first (RFC 9126). */
  async authorizationUrl(checks: LoginChecks, extra: { prompt?: 'none' } = {}): Promise<URL> {
    const build = this.settings.par ? oidc.buildAuthorizationUrlWithPAR : oidc.buildAuthorizationUrl;
    return build(this.config, {
      ...extra,
      redirect_uri: this.redirectUri,
      scope: this.settings.scope,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    });
  }

  /** Exchange the code of a callback query; validates state, iss, PKCE and the ID token. */
  async exchangeCode(callbackQuery: string, checks: LoginChecks): Promise<IssuedTokens> {
    const currentUrl = new URL(`${this.redirectUri}?${callbackQuery}`);
    // oidc.dpop: the new session's own key pair, bound to its tokens from the first one on
    const dpopKey = this.settings.dpop ? newDpopKey(this.dpopAlg) : undefined;
    const DPoP = dpopKey && (await this.dpop.handle(dpopKey));
    const response = await this.tokenRequests.run(() => oidc.authorizationCodeGrant(this.config, currentUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    }, undefined, DPoP && { DPoP }));
    const tokens = issued(response);
    // kept only when the IdP did bind the tokens (token_type DPoP); else they stay bearer tokens
    if (dpopKey && response.token_type === 'dpop') tokens.dpopKey = dpopKey;
    return tokens;
  }

  /**
   * The refresh_token grant. `confirm`, when given, runs once the request has its place
   * under the cap, right before the refresh token is sent (the wait in line may be long):
   * when it answers false nothing is sent and the result is undefined.
   */
  async refresh(refreshToken: string, scope?: string): Promise<IssuedTokens>;
  async refresh(
    refreshToken: string,
    scope: string | undefined,
    confirm: () => Promise<boolean>,
    dpopKey?: DpopKey,
  ): Promise<IssuedTokens | undefined>;
  async refresh(
    refreshToken: string,
    scope?: string,
    confirm?: () => Promise<boolean>,
    dpopKey?: DpopKey,
  ): Promise<IssuedTokens | undefined> {
    const params: Record<string, string> = scope === undefined ? {} : { scope };
    // the session's key signs the proof, so the new tokens stay bound to it
    const DPoP = dpopKey && (await this.dpop.handle(dpopKey));
    const response = await this.tokenRequests.run(async () => {
      if (confirm && !(await confirm())) return undefined;
      return oidc.refreshTokenGrant(this.config, refreshToken, params, DPoP && { DPoP });
    });
    return response && issued(response);
  }

  /**
   * RFC 8693 token exchange: `subjectToken` (a session's access token) for a token of
   * `request.audience`. With the session's DPoP key the request carries a proof, so the
   * issued token is bound to the same key. Runs under the token request cap; `confirm` as
   * for refresh.
   */
  async exchangeToken(
    subjectToken: string,
    request: TokenExchangeRequest,
    confirm: () => Promise<boolean>,
    dpopKey?: DpopKey,
  ): Promise<ExchangedTokenResponse | undefined> {
    const params: Record<string, string> = {
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: request.audience,
      requested_token_type: request.requestedTokenType,
    };
    if (request.resource !== undefined) params.resource = request.resource;
    if (request.scope !== undefined) params.scope = request.scope;
    const DPoP = dpopKey && (await this.dpop.handle(dpopKey));
    const response = await this.tokenRequests.run(async () => {
      if (!(await confirm())) return undefined;
      return oidc.genericGrantRequest(this.config, TOKEN_EXCHANGE, params, DPoP && { DPoP });
    });
    if (!response) return undefined;
    const expiresIn = response.expiresIn();
    const issuedTokenType = response.issued_token_type;
    return {
      accessToken: response.access_token,
      ...(expiresIn === undefined ? {} : { accessTokenExpiresAt: Date.now() + expiresIn * 1000 }),
      ...(typeof issuedTokenType === 'string' ? { issuedTokenType } : {}),
    };
  }

  /** RFC 7009; does nothing when the IdP has no revocation endpoint. */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    if (!this.metadata.revocation_endpoint) return;
    await oidc.tokenRevocation(this.config, token, { token_type_hint: hint });
  }

  /** Where the browser goes to end its IdP session, or the configured fallback. */
  logoutUrl(idToken: string | undefined): string | undefined {
    const postLogout = this.settings.postLogoutRedirectUri;
    if (!this.metadata.end_session_endpoint) return postLogout;
    const params: Record<string, string> = { client_id: this.settings.clientId };
    if (idToken) params.id_token_hint = idToken;
    if (postLogout) params.post_logout_redirect_uri = postLogout;
    return oidc.buildEndSessionUrl(this.config, params).href;
  }
}

function issued(response: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): IssuedTokens {
  const expiresIn = response.expiresIn();
  const claims = response.claims();
  const tokens: IssuedTokens = { accessToken: response.access_token };
  if (expiresIn !== undefined) tokens.accessTokenExpiresAt = Date.now() + expiresIn * 1000;
  if (response.refresh_token) tokens.refreshToken = response.refresh_token;
  if (response.id_token) tokens.idToken = response.id_token;
  if (response.scope) tokens.scope = response.scope;
  if (claims) tokens.claims = { ...claims };
  return tokens;
}

async function clientAuth(settings: OidcConfig): Promise<oidc.ClientAuth> {
  switch (settings.tokenEndpointAuthMethod) {
    case 'client_secret_basic':
      return oidc.ClientSecretBasic(settings.clientSecret);
    case 'client_secret_post':
      return oidc.ClientSecretPost(settings.clientSecret);
    case 'none':
      return oidc.None();
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      // RFC 8705: the client id in the body, the certificate on the connection (oidc.tls)
      return oidc.TlsClientAuth();
    case 'private_key_jwt': {
      const jwk = JSON.parse(await readFile(settings.privateKeyFile ?? '', 'utf8')) as JWK;
      const key = await importJWK(jwk, jwk.alg ?? 'RS256');
      if (key instanceof Uint8Array) throw new Error('oidc.privateKeyFile must hold a private asymmetric JWK');
      return oidc.PrivateKeyJwt(jwk.kid === undefined ? key : { key, kid: jwk.kid });
    }
  }
}

function withSlash(url: URL): URL {
  return url.pathname.endsWith('/') ? url : new URL(`${url.href}/`);
}
