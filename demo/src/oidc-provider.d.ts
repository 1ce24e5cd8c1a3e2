// Minimal type declarations for oidc-provider 9 (the package ships no types and
// @types/oidc-provider does not cover v9). Only what the demo uses is declared.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type UnknownObject = Record<string, unknown>;

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    application_type?: 'web' | 'native';
    backchannel_logout_uri?: string;
    backchannel_logout_session_required?: boolean;
    [key: string]: unknown;
  }

  export interface Client {
    clientId: string;
    grantTypeAllowed(type: string): boolean;
  }

  export interface OIDCContext {
    params?: UnknownObject;
    route?: string;
    client?: Client;
    /** records a model instance of the request (events and later lookups read it) */
    entity(name: string, value: unknown): void;
  }

  /** The koa context, as far as this project uses it. */
  export interface KoaContext {
    method: string;
    path: string;
    status: number;
    body: unknown;
    type: string;
    host: string;
    set(field: string, value: string): void;
    /** a request header's value ('' when absent) */
    get(field: string): string;
    oidc?: OIDCContext;
    /** the node request (its socket: the TLS peer certificate of mTLS) */
    req: import('node:http').IncomingMessage;
  }

  export type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

  /** Errors thrown by oidc-provider carry the OAuth error code. */
  export interface ProviderError extends Error {
    error?: string;
    error_description?: string;
  }

  export interface ProviderEventMap {
    'grant.success': [ctx: KoaContext];
    'grant.error': [ctx: KoaContext, err: ProviderError];
    'grant.revoked': [ctx: KoaContext, grantId: string];
    'backchannel.success': [ctx: KoaContext, client: Client, accountId: string, sid: string];
    'backchannel.error': [ctx: KoaContext, err: Error, client: Client, accountId: string, sid: string];
    'end_session.success': [ctx: KoaContext];
    'server_error': [ctx: KoaContext, err: Error];
  }

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string, claims: UnknownObject, rejected: string[]): Promise<AccountClaims> | AccountClaims;
  }

  export interface TokenLike {
    kind: string;
    clientId?: string;
    grantId?: string;
  }

  export interface PromptDetails {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
    [key: string]: unknown;
  }

  export interface Interaction {
    uid: string;
    prompt: { name: string; reasons: string[]; details: PromptDetails };
    params: UnknownObject;
    session?: { accountId: string; uid: string };
    grantId?: string;
  }

  export interface InteractionResults {
    login?: { accountId: string; remember?: boolean };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export interface Grant {
    accountId?: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(indicator: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  /** An access or refresh token being issued (opaque format: its value is returned by save()). */
  export interface IssuableToken {
    scope?: string;
    readonly expiration: number;
    save(): Promise<string>;
    /** AccessToken: bind to a DPoP key ('jkt', its thumbprint) */
    setThumbprint?(prop: 'jkt', thumbprint: string): void;
    /** AccessToken: the token's aud */
    setAudience?(audience: string | string[]): void;
    readonly tokenType?: string;
  }

  /** A stored token as find() returns it. */
  export interface FoundToken {
    accountId: string;
    clientId: string;
    grantId: string;
    scope?: string;
    jkt?: string;
    readonly isExpired: boolean;
  }

  export interface IssuableTokenConstructor {
    new (properties: {
      accountId: string;
      client: Client;
      grantId: string;
      gty: string;
      scope?: string;
      rotations?: number;
    }): IssuableToken;
    find(value: string): Promise<FoundToken | undefined>;
  }

  export type ProviderErrorConstructor = new (description?: string, detail?: string) => ProviderError;

  /** The OAuth errors oidc-provider renders as token endpoint error responses. */
  export const errors: {
    InvalidGrant: ProviderErrorConstructor;
    InvalidRequest: ProviderErrorConstructor;
    InvalidScope: ProviderErrorConstructor;
    InvalidTarget: ProviderErrorConstructor;
    InvalidDpopProof: ProviderErrorConstructor;
  };

  export interface ClientConstructor {
    find(id: string): Promise<Client | undefined>;
    validate(metadata: ClientMetadata): Promise<void>;
  }

  export type AdapterPayload = UnknownObject & {
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  type Feature<T = UnknownObject> = { enabled: boolean } & T;
  type TokenPolicy = (ctx: KoaContext, client: Client, token: TokenLike) => boolean | Promise<boolean>;
  type Ttl<T> = number | ((ctx: KoaContext | undefined, token: T, client: Client) => number);

  export interface Configuration {
    /** token endpoint authentication methods clients may register */
    clientAuthMethods?: string[];
    adapter?: (model: string) => Adapter;
    clients?: ClientMetadata[];
    claims?: Record<string, string[]>;
    scopes?: string[];
    responseTypes?: string[];
    conformIdTokenClaims?: boolean;
    clientBasedCORS?: (ctx: KoaContext, origin: string, client: Client) => boolean;
    cookies?: { keys?: string[] };
    jwks?: { keys: UnknownObject[] };
    pkce?: { required?: (ctx: KoaContext, client: Client) => boolean };
    routes?: Record<string, string>;
    rotateRefreshToken?: boolean | ((ctx: KoaContext) => boolean);
    issueRefreshToken?: (ctx: KoaContext, client: Client, code: TokenLike) => boolean | Promise<boolean>;
    expiresWithSession?: (ctx: KoaContext, code: TokenLike) => boolean | Promise<boolean>;
    findAccount?: (ctx: KoaContext, sub: string, token?: TokenLike) => Promise<Account | undefined>;
    interactions?: { url?: (ctx: KoaContext, interaction: Interaction) => string | Promise<string> };
    renderError?: (ctx: KoaContext, out: UnknownObject, error: Error) => void | Promise<void>;
    fetch?: (url: string, options: RequestInit & { dispatcher?: unknown }) => Promise<Response>;
    /** the JWS algs accepted per use (dPoPSigningAlgValues: DPoP proofs; default ES256, Ed25519, EdDSA) */
    enabledJWA?: { dPoPSigningAlgValues?: string[] };
    ttl?: {
      AccessToken?: Ttl<TokenLike>;
      AuthorizationCode?: Ttl<TokenLike>;
      ClientCredentials?: Ttl<TokenLike>;
      Grant?: Ttl<TokenLike>;
      IdToken?: Ttl<TokenLike>;
      Interaction?: Ttl<TokenLike>;
      RefreshToken?: Ttl<TokenLike>;
      Session?: Ttl<TokenLike>;
    };
    features?: {
      devInteractions?: Feature;
      clientCredentials?: Feature;
      backchannelLogout?: Feature;
      userinfo?: Feature;
      revocation?: Feature<{ allowedPolicy?: TokenPolicy }>;
      introspection?: Feature<{ allowedPolicy?: TokenPolicy }>;
      dPoP?: Feature<{ nonceSecret?: Buffer; requireNonce?: (ctx: KoaContext) => boolean }>;
      pushedAuthorizationRequests?: Feature<{ requirePushedAuthorizationRequests?: boolean }>;
      rpInitiatedLogout?: Feature<{
        logoutSource?: (ctx: KoaContext, form: string) => void | Promise<void>;
        postLogoutSuccessSource?: (ctx: KoaContext) => void | Promise<void>;
      }>;
      /** RFC 8705 (used by the HTTPS test IdP) */
      mTLS?: Feature<{
        certificateBoundAccessTokens?: boolean;
        tlsClientAuth?: boolean;
        selfSignedTlsClientAuth?: boolean;
        getCertificate?: (ctx: KoaContext) => import('node:crypto').X509Certificate | string | undefined;
        certificateAuthorized?: (ctx: KoaContext) => boolean;
        certificateSubjectMatches?: (ctx: KoaContext, property: string, expected: string) => boolean;
      }>;
    };
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: GrantConstructor;
    readonly Client: ClientConstructor;
    readonly AccessToken: IssuableTokenConstructor;
    readonly RefreshToken: IssuableTokenConstructor;
    /** Adds a token endpoint grant type; `params` are the form parameters it reads. */
    registerGrantType(name: string, handler: (ctx: KoaContext) => Promise<void>, params?: string[]): void;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    use(middleware: Middleware): this;
    on<K extends keyof ProviderEventMap>(event: K, listener: (...args: ProviderEventMap[K]) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  }

  export default Provider;
}
