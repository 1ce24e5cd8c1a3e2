import { copyFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reloadTls } from '../../src/tls/reloads.js';
import { LogoutTokenError, LogoutTokenVerifier } from '../../src/oidc/logout-token.js';
import { TlsFetch } from '../../src/tls/tls-fetch.js';
import { createPki, type CertFiles, type TestPki } from '../helpers/certs.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { certificateThumbprint, selfSignedClientMetadata, startHttpsIdp, tlsClientAuthMetadata, TrustingJar } from '../helpers/https-idp.js';
import { startHttpsUpstream, type HttpsUpstream } from '../helpers/https-upstream.js';
import { SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';

// oidc.tls against oidc-provider's mTLS feature over HTTPS: a private CA for every call to
// the IdP, RFC 8705 client authentication (tls_client_auth, self_signed_tls_client_auth),
// access tokens bound to the certificate (cnf x5t#S256) and presented with the same
// certificate to an upstream that asks for one.

let pki: TestPki;
let otherPki: TestPki;
let idp: TestIdp;
let upstream: HttpsUpstream;
let clientCert: CertFiles;
let selfSigned: CertFiles;
const gateways: TestGateway[] = [];
const jars: TrustingJar[] = [];

beforeAll(async () => {
  pki = createPki('IdP CA');
  otherPki = createPki('Other CA');
  clientCert = pki.issue('bff-gateway', { usage: 'client' });
  selfSigned = pki.selfSigned('bff-self-signed');
  // a short access token: with refreshBefore 60 s every call refreshes, so refreshes go through mTLS too
  idp = await startHttpsIdp(pki, { accessTokenTtl: 30 });
  upstream = await startHttpsUpstream({ server: pki.issue('orders'), clientCa: pki.caPem });
});

afterAll(async () => {
  for (const gw of gateways) await gw.close();
  for (const jar of jars) await jar.close();
  await upstream?.close();
  await idp?.close();
  pki?.close();
  otherPki?.close();
});

async function gatewayWith(clientId: string, method: string, tls: Record<string, string>): Promise<TestGateway> {
  const gw = await startGateway({
    idp,
    store: 'memory',
    routes: [{ prefix: '/api', upstream: upstream.url, tls: { ca: pki.ca } }],
    config: { oidc: { clientId, clientSecret: null, tokenEndpointAuthMethod: method, tls } },
  });
  gateways.push(gw);
  return gw;
}

function jar(): TrustingJar {
  const j = new TrustingJar(pki.caPem);
  jars.push(j);
  return j;
}

async function accessTokenBinding(authorization: string): Promise<unknown> {
  const tokens = idp.provider.AccessToken as unknown as { find(value: string): Promise<Record<string, unknown> | undefined> };
  return (await tokens.find(authorization.replace(/^Bearer /, '')))?.['x5t#S256'];
}

describe('the IdP over TLS (oidc.tls)', () => {
  it('tls_client_auth: logs in, refreshes, and the tokens are bound to the certificate the upstream is shown', async () => {
    const gw = await gatewayWith('bff-mtls', 'tls_client_auth', { ca: pki.ca, cert: clientCert.cert, key: clientCert.key });
    await idp.upsertClient(tlsClientAuthMetadata('bff-mtls', `${gw.url}/auth/callback`, 'CN=bff-gateway'));
    const { sessionCookie } = await loginThroughGateway(gw.url, { jar: jar() });
    const seen = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/api/orders`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
      expect(res.status).toBe(200);
      seen.push((await res.json()) as { clientCertificate: string; thumbprint: string; authorization: string });
    }
    const expected = certificateThumbprint(clientCert.certPem);
    for (const call of seen) {
      // the route has no client certificate of its own: the IdP's one is presented
      expect(call).toMatchObject({ clientCertificate: 'bff-gateway', thumbprint: expected });
      expect(await accessTokenBinding(call.authorization)).toBe(expected);
    }
    expect(seen[0]!.authorization).not.toBe(seen[1]!.authorization); // the second call came after a refresh
  });

  it('an IdP that cannot be trusted any more (after a reload with another CA) is 503 token_service_unavailable, at once', async () => {
    copyFileSync(pki.ca, pki.path('idp-ca.pem'));
    const gw = await gatewayWith('bff-reload', 'tls_client_auth', { ca: pki.path('idp-ca.pem'), cert: clientCert.cert, key: clientCert.key });
    await idp.upsertClient(tlsClientAuthMetadata('bff-reload', `${gw.url}/auth/callback`, 'CN=bff-gateway'));
    const { sessionCookie } = await loginThroughGateway(gw.url, { jar: jar() });
    const call = () => fetch(`${gw.url}/api/orders`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect((await call()).status).toBe(200);
    copyFileSync(otherPki.ca, pki.path('idp-ca.pem'));
    await reloadTls();
    const started = Date.now();
    const refused = await call(); // every call refreshes (30 s tokens, refreshBefore 60 s)
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'token_service_unavailable' });
    expect(Date.now() - started).toBeLessThan(10_000);
    copyFileSync(pki.ca, pki.path('idp-ca.pem'));
    await reloadTls();
    expect((await call()).status).toBe(200); // the session survived
  });

  it('self_signed_tls_client_auth: the registered self-signed certificate authenticates the gateway', async () => {
    const gw = await gatewayWith('bff-self', 'self_signed_tls_client_auth', { ca: pki.ca, cert: selfSigned.cert, key: selfSigned.key });
    await idp.upsertClient(selfSignedClientMetadata('bff-self', `${gw.url}/auth/callback`, selfSigned));
    const { sessionCookie } = await loginThroughGateway(gw.url, { jar: jar() });
    const user = await fetch(`${gw.url}/auth/user`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(user.status).toBe(200);
  });

  it('a client certificate the IdP does not know is refused at the code exchange: no session', async () => {
    const stranger = pki.issue('stranger', { usage: 'client' });
    const gw = await gatewayWith('bff-stranger', 'tls_client_auth', { ca: pki.ca, cert: stranger.cert, key: stranger.key });
    await idp.upsertClient(tlsClientAuthMetadata('bff-stranger', `${gw.url}/auth/callback`, 'CN=bff-gateway'));
    await expect(loginThroughGateway(gw.url, { jar: jar() })).rejects.toThrow(/auth\/callback/);
  });

  it('an IdP certificate from another CA stops the start with the reason', async () => {
    await expect(gatewayWith('bff-mtls', 'tls_client_auth', { ca: otherPki.ca, cert: clientCert.cert, key: clientCert.key }))
      .rejects.toThrow(/discovery failed.*(certificate|UNABLE_TO_VERIFY)/is);
  });

  it('token sources reach a token endpoint behind the private CA (tokenSources.<name>.tls); another CA: 503', async () => {
    const source = (ca: string) => ({ tokenEndpoint: `${idp.issuer}/token`, grant: 'client_credentials', clientId: SERVICE_CLIENT_ID, clientSecret: SERVICE_CLIENT_SECRET, tls: { ca } });
    const routeTls = { ca: pki.ca, cert: clientCert.cert, key: clientCert.key };
    const gw = await startGateway({
      idp,
      store: 'memory',
      config: {
        oidc: { clientId: 'bff-mtls', clientSecret: null, tokenEndpointAuthMethod: 'tls_client_auth', tls: routeTls },
        tokenSources: { internal: source(pki.ca), foreign: source(otherPki.ca) },
      },
      routes: [
        { prefix: '/svc', upstream: upstream.url, token: 'internal', requireSession: false, tls: routeTls },
        { prefix: '/svc-foreign', upstream: upstream.url, token: 'foreign', requireSession: false, tls: routeTls },
      ],
    });
    gateways.push(gw);
    const ok = await fetch(`${gw.url}/svc/reports`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { authorization: string }).authorization).toMatch(/^Bearer ./);
    const refused = await fetch(`${gw.url}/svc-foreign/reports`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'token_service_unavailable' });
  });

  it('the logout token verifier fetches the JWKS through the same TLS settings', async () => {
    const jwksUri = `${idp.issuer}/jwks`;
    const token = ['{"alg":"RS256","kid":"unknown"}', '{}'].map((p) => Buffer.from(p).toString('base64url')).join('.') + '.c2ln';
    const options = { issuer: idp.issuer, clientId: 'bff', jwksUri, maxAgeSeconds: 120, clockToleranceSeconds: 30 };
    const trusting = new TlsFetch('test', { ca: pki.ca });
    const foreign = new TlsFetch('test', { ca: otherPki.ca });
    try {
      // the JWKS was read: the token is refused for its key, not for the connection
      await expect(new LogoutTokenVerifier({ ...options, fetch: trusting.fetch }).verify(token)).rejects.toBeInstanceOf(LogoutTokenError);
      const failed = await new LogoutTokenVerifier({ ...options, fetch: foreign.fetch }).verify(token).catch((e: unknown) => e);
      expect(failed).not.toBeInstanceOf(LogoutTokenError); // an unreachable JWKS: the caller answers 503
    } finally {
      await trusting.close();
      await foreign.close();
    }
  });
});
