// The oidc-provider configuration of the demo identity provider.
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { Account, ClientMetadata, Configuration, KoaContext, UnknownObject } from 'oidc-provider';
import { escapeHtml, htmlPage, type DemoUser } from './idp-interactions.js';
import type { IdpMemoryStore } from './idp-store.js';

/** oidc-provider's default routes for the endpoints the fault injection and stats watch. */
export const ROUTES = { token: '/token', revocation: '/token/revocation' } as const;

/** The scopes the demo identity provider knows. */
export const SCOPES: readonly string[] = ['openid', 'offline_access', 'profile', 'email'];

export interface ProviderConfigOptions {
  clients: ClientMetadata[];
  users: readonly DemoUser[];
  store: IdpMemoryStore;
  accessTokenTtl: () => number;
  refreshTokenTtl: number;
  /** DPoP proofs must carry the IdP's nonce (RFC 9449 §8); DPoP itself is always on */
  dpopNonce?: boolean;
}

/** A fresh RS256 signing key (private JWK), generated with jose: no development keys. */
export async function generateSigningJwk(): Promise<UnknownObject> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function renderError(ctx: KoaContext, out: UnknownObject): void {
  const lines = Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</p>`);
  ctx.type = 'html';
  ctx.body = htmlPage('Error', `<h1>Something went wrong</h1>\n<div class="error">${lines.join('\n')}</div>`);
}

function logoutSource(ctx: KoaContext, form: string): void {
  // `form` is oidc-provider's <form id="op.logoutForm" ...> holding the hidden xsrf field.
  ctx.type = 'html';
  ctx.body = htmlPage('Sign out', `<h1>Sign out from ${escapeHtml(ctx.host)}?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

function postLogoutSuccessSource(ctx: KoaContext): void {
  ctx.type = 'html';
  ctx.body = htmlPage('Signed out', '<h1>Signed out</h1><p>You have been signed out.</p>');
}

export async function buildProviderConfig(opts: ProviderConfigOptions): Promise<Configuration> {
  const accounts = new Map(opts.users.map((u) => [u.claims.sub, u]));
  const longTtl = Math.max(14 * 24 * 3600, opts.refreshTokenTtl);

  return {
    adapter: opts.store.adapterFactory,
    clients: opts.clients,
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    scopes: [...SCOPES],
    responseTypes: ['code'],
    // Release the granted profile/email claims in the ID token too (the gateway's
    // /auth/user reads them from there).
    conformIdTokenClaims: false,
    clientBasedCORS: () => false, // a BFF's browser never calls the IdP with CORS
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [await generateSigningJwk()] },
    pkce: { required: () => true }, // oidc-provider 9 only implements S256
    routes: { ...ROUTES },
    // Every refresh_token grant consumes the refresh token and issues a new one, for
    // every client (the default only rotates for public clients or old tokens).
    // Presenting a consumed one again revokes the whole grant.
    rotateRefreshToken: true,
    // Refresh tokens without the offline_access + prompt=consent dance.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Tokens live by their own TTLs, not by the IdP's browser session.
    expiresWithSession: () => false,
    findAccount: async (_ctx, sub): Promise<Account | undefined> => {
      const user = accounts.get(sub);
      if (!user) return undefined;
      return { accountId: sub, claims: () => ({ ...user.claims, sub }) };
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError,
    // oidc-provider's default fetch refuses special-use addresses (SSRF protection),
    // which would stop back-channel logout calls to gateways on 127.0.0.1.
    fetch: (url, { dispatcher: _dispatcher, ...init }) => globalThis.fetch(url, init),
    ttl: {
      AccessToken: () => opts.accessTokenTtl(),
      ClientCredentials: () => opts.accessTokenTtl(),
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: opts.refreshTokenTtl,
      Interaction: 3600,
      Session: longTtl,
      Grant: longTtl,
    },
    features: {
      devInteractions: { enabled: false },
      // DPoP (RFC 9449) and PAR (RFC 9126) are on by default in oidc-provider 9; named here
      dPoP: opts.dpopNonce ? { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } : { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      userinfo: { enabled: true },
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      introspection: { enabled: true, allowedPolicy: () => true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
  };
}
