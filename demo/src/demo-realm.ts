// The demo's user and the gateway's client at the demo identity provider, shared by
// `npm start` (main.ts) and the per-container entry points (serve.ts).
import type { ClientMetadata, DemoUser } from './idp.js';

export const DEMO_USER: DemoUser = {
  username: 'alice',
  password: 'wonderland',
  claims: { sub: 'alice', name: 'Alice Liddell', email: 'alice@example.test' },
};

export const DEMO_CLIENT_ID = 'demo-bff';

/** The audience of the SAML assertions the demo SOAP service takes (the /soap-saml route). */
export const DEMO_SAML_AUDIENCE = 'urn:bff-gateway:demo:soap';

export interface DemoClientOptions {
  clientId?: string;
  clientSecret: string;
  /** the origin browsers use for the gateway (its server.publicUrl) */
  publicUrl: string;
  /** where the IdP posts back-channel logout tokens (any gateway instance) */
  backchannelLogoutUri?: string;
}

/** The gateway as a confidential client: code flow, refresh, logout back to the page. */
export function demoGatewayClient(opts: DemoClientOptions): ClientMetadata {
  const publicUrl = opts.publicUrl.replace(/\/$/, '');
  const client: ClientMetadata = {
    client_id: opts.clientId ?? DEMO_CLIENT_ID,
    client_secret: opts.clientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:token-exchange'],
    response_types: ['code'],
    redirect_uris: [`${publicUrl}/auth/callback`],
    post_logout_redirect_uris: [`${publicUrl}/`],
  };
  if (opts.backchannelLogoutUri) {
    client.backchannel_logout_uri = opts.backchannelLogoutUri;
    client.backchannel_logout_session_required = true;
  }
  return client;
}
