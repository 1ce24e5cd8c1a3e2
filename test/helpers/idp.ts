// A demo IdP for tests: one confidential client "bff" and one user "alice".
//
// Redirect URIs: oidc-provider matches redirect_uris exactly, and a gateway's
// redirect_uri is only known once it listens. So the "bff" client is NOT a static
// client: it is registered at run time in the IdP's store, and tests call
// `idp.configureBffClient({ redirectUris, ... })` once their gateway(s) listen
// (with every gateway's callback URL when several instances share the client).
// Tests that know their ports in advance (freePort()) can pass them to
// startTestIdp() instead. Without any, the client gets the demo's default
// redirect URI, http://localhost:8080/auth/callback.
import type { JWK } from 'jose';
import { JWT_BEARER_GRANT } from '../../demo/src/idp-jwt-bearer-grant.js';
import { TOKEN_EXCHANGE_GRANT, type SamlMinter } from '../../demo/src/idp-token-exchange-grant.js';
import { startDemoIdp, type ClientMetadata, type DemoIdp, type DemoIdpOptions, type DemoUser } from '../../demo/src/idp.js';

export const BFF_CLIENT_ID = 'bff';
export const BFF_CLIENT_SECRET = 'bff-secret-bff-secret-bff-secret';

export const ALICE: DemoUser = {
  username: 'alice',
  password: 'wonderland',
  claims: { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.test' },
};

/**
 * A service account (Secret Server style): a confidential client allowed the password,
 * refresh_token and client_credentials grants, and a user for the password grant.
 * Both are always there.
 */
export const SERVICE_CLIENT_ID = 'gateway-service';
export const SERVICE_CLIENT_SECRET = 'gateway-service-secret-0123456789abcdef';
export const SERVICE_USER: DemoUser = {
  username: 'svc-orders',
  password: 'svc-orders-password-Zq7xW3',
  claims: { sub: 'svc-orders', name: 'Orders service account' },
};

export function serviceClientMetadata(): ClientMetadata {
  return {
    client_id: SERVICE_CLIENT_ID,
    client_secret: SERVICE_CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['password', 'refresh_token', 'client_credentials', JWT_BEARER_GRANT],
    response_types: [],
    redirect_uris: [],
  };
}

export interface BffClientOptions {
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** The gateway's POST /auth/backchannel-logout URL (sid required in the logout token). */
  backchannelLogoutUri?: string;
}

export interface TestIdpOptions extends BffClientOptions {
  clients?: ClientMetadata[]; // extra static clients
  users?: DemoUser[]; // extra users (alice is always there)
  accessTokenTtl?: number; // seconds, default 60
  refreshTokenTtl?: number; // seconds, default 1 day
  /** HTTPS and provider changes (see test/helpers/https-idp.ts) */
  https?: DemoIdpOptions['https'];
  configure?: DemoIdpOptions['configure'];
  dpopNonce?: boolean; // DPoP proofs at the IdP must carry its DPoP-Nonce
  assertionKeys?: Record<string, JWK>; // jwt-bearer grant: the public key trusted per assertion issuer
  exchangeAudiences?: string[]; // token exchange: the audiences served
  saml?: SamlMinter; // token exchange: mints SAML 2.0 assertions
}

export interface TestIdp extends DemoIdp {
  setAccessTokenTtl(seconds: number): void;
  /** (Re)registers the "bff" client with these URIs (replacing the previous ones). */
  configureBffClient(options: BffClientOptions): Promise<void>;
}

export function bffClientMetadata(options: BffClientOptions = {}): ClientMetadata {
  const metadata: ClientMetadata = {
    client_id: BFF_CLIENT_ID,
    client_secret: BFF_CLIENT_SECRET,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', TOKEN_EXCHANGE_GRANT],
    response_types: ['code'],
    redirect_uris: options.redirectUris?.length ? options.redirectUris : ['http://localhost:8080/auth/callback'],
    post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
  };
  if (options.backchannelLogoutUri) {
    metadata.backchannel_logout_uri = options.backchannelLogoutUri;
    metadata.backchannel_logout_session_required = true;
  }
  return metadata;
}

export async function startTestIdp(opts: TestIdpOptions = {}): Promise<TestIdp> {
  let accessTokenTtl = opts.accessTokenTtl ?? 60;
  const idp = await startDemoIdp({
    host: '127.0.0.1',
    port: 0,
    clients: [serviceClientMetadata(), ...(opts.clients ?? [])],
    users: [ALICE, SERVICE_USER, ...(opts.users ?? [])],
    accessTokenTtl: () => accessTokenTtl,
    ...(opts.refreshTokenTtl === undefined ? {} : { refreshTokenTtl: opts.refreshTokenTtl }),
    ...(opts.https === undefined ? {} : { https: opts.https }),
    ...(opts.configure === undefined ? {} : { configure: opts.configure }),
    ...(opts.dpopNonce === undefined ? {} : { dpopNonce: opts.dpopNonce }),
    ...(opts.assertionKeys === undefined ? {} : { assertionKeys: opts.assertionKeys }),
    ...(opts.exchangeAudiences === undefined ? {} : { exchangeAudiences: opts.exchangeAudiences }),
    ...(opts.saml === undefined ? {} : { saml: opts.saml }),
  });
  const configureBffClient = (options: BffClientOptions) => idp.upsertClient(bffClientMetadata(options));
  await configureBffClient(opts);
  return Object.assign(idp, {
    setAccessTokenTtl: (seconds: number) => { accessTokenTtl = seconds; },
    configureBffClient,
  });
}
