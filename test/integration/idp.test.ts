// The demo IdP (oidc-provider 9) against openid-client v6 as a real relying party,
// plus the test helpers around it (login through a minimal fake gateway, IdP
// logout with back-channel logout) and the demo REST API.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { startDemoRestApi, type DemoRestApi } from '../../demo/src/rest-api.js';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, startTestIdp, type TestIdp } from '../helpers/idp.js';
import { CookieJar, loginThroughGateway, logoutAtIdp } from '../helpers/login.js';

const REDIRECT_URI = 'http://127.0.0.1:9/fake-rp/callback'; // never called: the code is read from Location

let idp: TestIdp;
let config: oidc.Configuration;

async function discover(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(idp.issuer), BFF_CLIENT_ID, BFF_CLIENT_SECRET, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** Authorization code flow with PKCE, driven with plain HTTP up to the redirect to REDIRECT_URI. */
async function authorize(scope = 'openid profile email', jar = new CookieJar()) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  let url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  }).href;
  const visited: string[] = [];
  for (let step = 0; step < 10; step++) {
    if (url.startsWith(REDIRECT_URI)) return { callbackUrl: new URL(url), verifier, state, visited };
    visited.push(`GET ${new URL(url).pathname}`);
    const response = await jar.fetch(url);
    const location = response.headers.get('location');
    if (location) {
      await response.body?.cancel();
      url = new URL(location, url).href;
      continue;
    }
    const html = await response.text();
    const action = /<form id="login" method="post" action="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || !action) throw new Error(`unexpected ${response.status} at ${url}: ${html.slice(0, 200)}`);
    const body = new URLSearchParams({ username: 'alice', password: 'wonderland' });
    const posted = await jar.fetch(new URL(action, url), { method: 'POST', body });
    visited.push(`POST ${new URL(action, url).pathname}`);
    await posted.body?.cancel();
    expect(posted.status).toBe(303);
    url = new URL(posted.headers.get('location') ?? '', url).href;
  }
  throw new Error('too many redirects');
}

async function codeFlow(scope?: string, jar?: CookieJar) {
  const { callbackUrl, verifier, state, visited } = await authorize(scope, jar);
  const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: verifier, expectedState: state });
  return Object.assign(tokens, { visited });
}

async function refreshError(refreshToken: string): Promise<unknown> {
  return oidc.refreshTokenGrant(config, refreshToken).then(() => undefined, (err: unknown) => err);
}

function oauthError(err: unknown): string | undefined {
  return err instanceof oidc.ResponseBodyError ? err.error : undefined;
}

beforeAll(async () => {
  idp = await startTestIdp({ redirectUris: [REDIRECT_URI] });
  config = await discover();
});

afterAll(async () => {
  await idp?.close();
});

describe('demo IdP with openid-client as relying party', () => {
  it('serves discovery with the endpoints and capabilities the gateway needs', () => {
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(idp.issuer);
    expect(idp.issuer).toBe(`http://localhost:${idp.port}`);
    expect(metadata.token_endpoint).toBe(`${idp.issuer}/token`);
    expect(metadata.revocation_endpoint).toBe(`${idp.issuer}/token/revocation`);
    expect(metadata.end_session_endpoint).toBeDefined();
    expect(metadata.userinfo_endpoint).toBeDefined();
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
  });

  it('runs the code flow with PKCE and issues refresh and ID tokens with profile claims', async () => {
    const before = idp.stats.codeExchanges;
    const tokens = await codeFlow();
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.expires_in).toBe(60);
    expect(tokens.claims()).toMatchObject({ sub: 'alice', name: 'Alice Liddell', email: 'alice@example.test' });
    expect(idp.stats.codeExchanges).toBe(before + 1);
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(userinfo).toMatchObject({ sub: 'alice', name: 'Alice Liddell', email: 'alice@example.test' });
  });

  it('requires PKCE', async () => {
    const response = await fetch(oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid', state: 'x',
    }), { redirect: 'manual' });
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.href.startsWith(REDIRECT_URI)).toBe(true);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('re-renders the login form with an error on a wrong password', async () => {
    const jar = new CookieJar();
    let url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge('x'.repeat(43)),
      code_challenge_method: 'S256',
    }).href;
    const first = await jar.fetch(url);
    url = new URL(first.headers.get('location') ?? '', url).href;
    const html = await (await jar.fetch(url)).text();
    const action = /action="([^"]+\/login)"/.exec(html)?.[1] ?? '';
    const wrong = await jar.fetch(new URL(action, url), {
      method: 'POST', body: new URLSearchParams({ username: 'alice', password: 'nope' }),
    });
    expect(wrong.status).toBe(200);
    expect(await wrong.text()).toContain('Invalid username or password');
  });

  it('grants consent automatically, also when a logged-in user is asked for more scopes', async () => {
    const jar = new CookieJar();
    const first = await codeFlow('openid', jar);
    expect(first.claims()).not.toHaveProperty('name');
    expect(first.visited.filter((v) => v.startsWith('POST'))).toHaveLength(1); // the login form
    const more = await codeFlow('openid profile email', jar); // same IdP session: a consent prompt only
    expect(more.visited.some((v) => v.startsWith('GET /interaction/'))).toBe(true);
    expect(more.visited.filter((v) => v.startsWith('POST'))).toHaveLength(0);
    expect(more.claims()).toMatchObject({ name: 'Alice Liddell', email: 'alice@example.test' });
    const again = await codeFlow('openid profile email', jar); // everything granted: no interaction
    expect(again.visited.some((v) => v.startsWith('GET /interaction/'))).toBe(false);
  });

  it('rotates refresh tokens on every refresh', async () => {
    const tokens = await codeFlow();
    const before = idp.stats.refreshes;
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.claims()).toMatchObject({ sub: 'alice', name: 'Alice Liddell' });
    expect(idp.stats.refreshes).toBe(before + 1);
  });

  it('treats reuse of a consumed refresh token as theft: invalid_grant and the whole grant is revoked', async () => {
    const tokens = await codeFlow();
    const first = tokens.refresh_token ?? '';
    const second = (await oidc.refreshTokenGrant(config, first)).refresh_token ?? '';
    const { grantRevocations, refreshFailures } = idp.stats;
    const invalidGrants = idp.stats.refreshFailuresByError.invalid_grant ?? 0;

    expect(oauthError(await refreshError(first))).toBe('invalid_grant');
    expect(idp.stats.grantRevocations).toBe(grantRevocations + 1);
    expect(oauthError(await refreshError(second))).toBe('invalid_grant');
    expect(idp.stats.refreshFailures).toBe(refreshFailures + 2);
    expect(idp.stats.refreshFailuresByError.invalid_grant).toBe(invalidGrants + 2);
    // the access token of the grant is gone too
    await expect(oidc.fetchUserInfo(config, tokens.access_token, 'alice')).rejects.toThrow();
  });

  it('revokes refresh tokens at the revocation endpoint', async () => {
    const tokens = await codeFlow();
    const before = idp.stats.revocations;
    await oidc.tokenRevocation(config, tokens.refresh_token ?? '', { token_type_hint: 'refresh_token' });
    expect(idp.stats.revocations).toBe(before + 1);
    expect(oauthError(await refreshError(tokens.refresh_token ?? ''))).toBe('invalid_grant');
  });

  it('injects token endpoint failures and delays', async () => {
    const tokens = await codeFlow();
    idp.faults.setTokenEndpointFailure(503);
    try {
      const response = await fetch(`${idp.issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${BFF_CLIENT_ID}:${BFF_CLIENT_SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }),
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const err = await refreshError(tokens.refresh_token ?? '');
      expect(err).toBeInstanceOf(Error);
    } finally {
      idp.faults.setTokenEndpointFailure(null);
    }
    idp.faults.setTokenEndpointDelay(300);
    try {
      const started = Date.now();
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
      expect(refreshed.refresh_token).toBeTruthy(); // the failed attempts consumed nothing
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      idp.faults.setTokenEndpointDelay(0);
    }
  });

  it('stops and resumes listening on the same issuer, keeping keys and state', async () => {
    const tokens = await codeFlow();
    const jwks = await (await fetch(`${idp.issuer}/jwks`)).json();
    await idp.stopListening();
    await expect(fetch(`${idp.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
    await idp.resumeListening();
    expect(await (await fetch(`${idp.issuer}/jwks`)).json()).toEqual(jwks);
    const again = await discover();
    const refreshed = await oidc.refreshTokenGrant(again, tokens.refresh_token ?? '');
    expect(refreshed.claims()?.sub).toBe('alice'); // ID token signed with the same key
  });

  it('issues access tokens with the TTL set by setAccessTokenTtl', async () => {
    const tokens = await codeFlow();
    idp.setAccessTokenTtl(7);
    try {
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
      expect(refreshed.expires_in).toBe(7);
    } finally {
      idp.setAccessTokenTtl(60);
    }
  });
});

/** A minimal gateway: /auth/login, /auth/callback and /auth/backchannel-logout. */
async function startFakeGateway(rp: () => oidc.Configuration) {
  const pending = new Map<string, { verifier: string }>();
  const logoutTokens: string[] = [];
  const idTokens: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    void (async () => {
      if (url.pathname === '/auth/login') {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        pending.set(state, { verifier });
        const location = oidc.buildAuthorizationUrl(rp(), {
          redirect_uri: `${base}/auth/callback`, scope: 'openid profile', state,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        });
        res.writeHead(302, { location: location.href, 'set-cookie': `fake-login=${state}; Path=/auth; HttpOnly` }).end();
      } else if (url.pathname === '/auth/callback') {
        const state = /fake-login=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '';
        const login = pending.get(state);
        if (!login) return void res.writeHead(400).end('no login');
        const tokens = await oidc.authorizationCodeGrant(rp(), url, { pkceCodeVerifier: login.verifier, expectedState: state });
        idTokens.push(tokens.id_token ?? '');
        res.writeHead(302, { location: '/', 'set-cookie': ['fake-login=; Max-Age=0; Path=/auth', 'fake-session=s3ss10n; Path=/; HttpOnly'] }).end();
      } else if (url.pathname === '/auth/backchannel-logout' && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += String(chunk);
        logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(200, { 'cache-control': 'no-store' }).end();
      } else {
        res.writeHead(404).end();
      }
    })().catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, logoutTokens, idTokens, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

describe('test helpers and the demo REST API', () => {
  let gateway: Awaited<ReturnType<typeof startFakeGateway>>;
  let api: DemoRestApi;

  beforeAll(async () => {
    gateway = await startFakeGateway(() => config);
    await idp.configureBffClient({
      redirectUris: [REDIRECT_URI, `${gateway.base}/auth/callback`],
      postLogoutRedirectUris: [`${gateway.base}/`],
      backchannelLogoutUri: `${gateway.base}/auth/backchannel-logout`,
    });
    api = await startDemoRestApi({ issuer: idp.issuer, port: 0 });
  });

  afterAll(async () => {
    await gateway?.close();
    await api?.close();
  });

  it('logs in through a gateway and logs out at the IdP with back-channel logout', async () => {
    const login = await loginThroughGateway(gateway.base, { returnTo: '/app' });
    expect(login.sessionCookie).toBe('fake-session=s3ss10n');
    expect(login.location).toBe('/');

    const logoutUrl = oidc.buildEndSessionUrl(config, {
      id_token_hint: gateway.idTokens.at(-1) ?? '', post_logout_redirect_uri: `${gateway.base}/`,
    });
    const before = idp.stats.backchannelLogouts;
    const { location } = await logoutAtIdp(logoutUrl.href, login.jar);
    expect(location).toBe(`${gateway.base}/`);
    expect(idp.stats.backchannelLogouts).toBe(before + 1);
    expect(idp.stats.endSessions).toBeGreaterThan(0);
    expect(gateway.logoutTokens).toHaveLength(1);
    const logoutToken = decodeJwt(gateway.logoutTokens[0] ?? '');
    expect(logoutToken).toMatchObject({ iss: idp.issuer, aud: BFF_CLIENT_ID, sub: 'alice', sid: decodeJwt(gateway.idTokens.at(-1) ?? '').sid });
    expect(logoutToken.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(logoutToken).not.toHaveProperty('nonce');
  });

  it('refuses a wrong password with a descriptive error', async () => {
    await expect(loginThroughGateway(gateway.base, { password: 'wrong' })).rejects.toThrow(/refused.*Invalid username or password/);
  });

  it('answers who the bearer token belongs to, without echoing it', async () => {
    const { access_token: token } = await codeFlow();
    const response = await fetch(`${api.url}/hello?x=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(token);
    expect(JSON.parse(text)).toMatchObject({ path: '/hello', method: 'GET', subject: 'alice', bearerTokenReceived: true });
  });

  it('answers 401 invalid_token without a token or with an unknown one', async () => {
    const cases: Record<string, string>[] = [{}, { authorization: 'Bearer not-a-real-token' }];
    for (const headers of cases) {
      const response = await fetch(`${api.url}/hello`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      await response.body?.cancel();
    }
  });
});
