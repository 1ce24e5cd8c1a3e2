import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../src/oidc/logout-token.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, startInstances, type Instances } from '../helpers/instances.js';
import { loginThroughGateway, logoutAtIdp, type CookieJar } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// The IdP ends a user's session and posts a logout token to ONE gateway instance; the
// session ends on every instance. Forged or replayed tokens are refused and end nothing.

let redis: TestRedis;
let idp: TestIdp;
let upstream: TestUpstream;
let instances: Instances;
/** where the IdP posts logout tokens while a test captures them instead of delivering */
let capture: Server;
let captured: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startUpstream();
  instances = await startInstances(3, { idp, store: redis.url, routes: [{ prefix: '/api', upstream: upstream.url }] });
  capture = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      captured.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await instances?.close();
  await new Promise((resolve) => capture?.close(resolve));
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

async function deliverTo(uri: string): Promise<void> {
  await idp.configureBffClient({
    redirectUris: instances.gateways.map((g) => `${g.url}/auth/callback`),
    postLogoutRedirectUris: instances.gateways.map((g) => `${g.url}/`),
    backchannelLogoutUri: uri,
  });
}

const endIdpSession = (jar: CookieJar) => logoutAtIdp(`${idp.issuer}/session/end?client_id=bff`, jar);
const gatewayUrls = () => instances.gateways.map((g) => g.url);
const statusesOf = async (cookie: string) =>
  Promise.all(gatewayUrls().map(async (url) => (await call(`${url}/api/me`, cookie)).status));

function postLogoutToken(token: string, url = instances.gateways[1]!.url) {
  return fetch(`${url}/auth/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }),
  });
}

describe('back-channel logout', () => {
  it('a logout token delivered to one instance ends the session on all of them, and only that one', async () => {
    await deliverTo(`${instances.gateways[0]!.url}/auth/backchannel-logout`);
    const ended = await loginThroughGateway(instances.gateways[0]!.url);
    const other = await loginThroughGateway(instances.gateways[2]!.url); // another IdP session
    expect(await statusesOf(ended.sessionCookie)).toEqual([200, 200, 200]);
    idp.resetStats();

    await endIdpSession(ended.jar);
    expect(idp.stats.backchannelLogouts).toBe(1);
    expect(idp.stats.backchannelLogoutFailures).toBe(0);
    expect(await statusesOf(ended.sessionCookie)).toEqual([401, 401, 401]);
    expect(await statusesOf(other.sessionCookie)).toEqual([200, 200, 200]);
  });

  it('accepts a real logout token once: a replay is 400 and ends nothing', async () => {
    await deliverTo(`http://127.0.0.1:${(capture.address() as AddressInfo).port}/logout`);
    const first = await loginThroughGateway(instances.gateways[0]!.url);
    captured = [];
    await endIdpSession(first.jar);
    expect(captured).toHaveLength(1);
    const token = captured[0]!;

    const accepted = await postLogoutToken(token);
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get('cache-control')).toBe('no-store');
    expect(await statusesOf(first.sessionCookie)).toEqual([401, 401, 401]);

    const second = await loginThroughGateway(instances.gateways[0]!.url);
    const replayed = await postLogoutToken(token, instances.gateways[2]!.url);
    expect(replayed.status).toBe(400);
    expect(await replayed.json()).toEqual({ error: 'invalid_request' });
    expect(replayed.headers.get('cache-control')).toBe('no-store');
    expect(await statusesOf(second.sessionCookie)).toEqual([200, 200, 200]);
  });

  it('refuses forged tokens with 400 and ends nothing', async () => {
    const { sessionCookie } = await loginThroughGateway(instances.gateways[0]!.url);
    const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    const { privateKey } = await generateKeyPair('RS256');
    const claims = { sub: 'alice', jti: crypto.randomUUID(), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
    // the IdP's key id, someone else's key
    const badSignature = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: jwks.keys[0]!.kid })
      .setIssuer(idp.issuer)
      .setAudience('bff')
      .setIssuedAt()
      .sign(privateKey);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const algNone = `${b64({ alg: 'none' })}.${b64({ ...claims, iss: idp.issuer, aud: 'bff', iat: Math.floor(Date.now() / 1000) })}.`;

    for (const token of [badSignature, algNone, 'garbage']) {
      const res = await postLogoutToken(token);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request' });
    }
    const noField = await fetch(`${instances.gateways[0]!.url}/auth/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'something=else',
    });
    expect(noField.status).toBe(400);
    expect(await statusesOf(sessionCookie)).toEqual([200, 200, 200]);
  });
});
