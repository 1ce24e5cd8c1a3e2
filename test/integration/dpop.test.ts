import { calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicJwk } from '../../src/oidc/dpop.js';
import { introspect, randomNonce, startDpopUpstream, type DpopUpstream } from '../helpers/dpop-upstream.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { startGateway } from '../helpers/gateway.js';
import { call, countStatuses, expiringSession, startInstances, storm, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';

// oidc.dpop: true against oidc-provider (DPoP on) and a resource server that checks proofs
// with jose: the code exchange binds the tokens to the session's own key, every refresh
// (on any instance) keeps that binding, every upstream call carries a fresh proof, and the
// bound token alone (as a bearer token, or without a proof) is refused.

let redis: TestRedis;
let idp: TestIdp;
let upstream: DpopUpstream;
let gws: Instances;

beforeAll(async () => {
  redis = await startRedis();
  // the IdP asks for its DPoP-Nonce: openid-client answers the challenge once per request
  idp = await startTestIdp({ accessTokenTtl: 3600, dpopNonce: true, exchangeAudiences: ['https://orders.example'] });
  upstream = await startDpopUpstream(idp);
  gws = await startInstances(2, {
    idp,
    store: redis.url,
    routes: [
      { prefix: '/api', upstream: upstream.url },
      { prefix: '/orders', upstream: upstream.url, exchange: { audience: 'https://orders.example' } },
    ],
    config: { oidc: { dpop: true, dpopAlgs: ['Ed25519', 'ES256'] } },
  });
});

afterAll(async () => {
  await gws?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

const [a, b] = [() => gws.gateways[0]!, () => gws.gateways[1]!];

async function sessionKeyThumbprint(cookie: string): Promise<{ jkt: string; accessToken: string; kty: string }> {
  const data = await peekSession(redis.client(), cookie);
  const key = data?.tokens.dpopKey;
  expect(key?.d).toBeTypeOf('string'); // the private key is in the (sealed) session
  return { jkt: await calculateJwkThumbprint(publicJwk(key!)), accessToken: data!.tokens.accessToken, kty: key!.kty };
}

describe('DPoP-bound session tokens', () => {
  it('sends Authorization: DPoP with a proof the upstream verifies, bound to the session key', async () => {
    const { sessionCookie } = await loginThroughGateway(a().url);
    const { jkt, accessToken, kty } = await sessionKeyThumbprint(sessionCookie);
    expect((await introspect(idp, accessToken)).cnf?.jkt).toBe(jkt);
    // these instances prefer Ed25519 (oidc.dpopAlgs) and oidc-provider accepts it for DPoP
    expect(kty).toBe('OKP');

    upstream.calls.length = 0;
    const res = await call(`${a().url}/api/orders?x=1`, sessionCookie);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ sub: 'alice', jkt, scheme: 'DPoP' });
    expect(upstream.calls.at(-1)?.alg).toBe('Ed25519');
    // two calls, two proofs (the upstream refuses a replayed jti)
    expect((await call(`${b().url}/api/orders`, sessionCookie, { method: 'POST', body: '{}' })).status).toBe(200);
    expect(upstream.calls.map((c) => c.status)).toEqual([200, 200]);
  });

  it('refuses the bound token replayed without its proof, at the upstream and at the IdP', async () => {
    const { sessionCookie } = await loginThroughGateway(a().url);
    const { accessToken } = await sessionKeyThumbprint(sessionCookie);
    const asBearer = await fetch(`${upstream.url}/api/x`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(asBearer.status).toBe(401);
    const noProof = await fetch(`${upstream.url}/api/x`, { headers: { authorization: `DPoP ${accessToken}` } });
    expect(noProof.status).toBe(401);
    expect(noProof.headers.get('www-authenticate')).toMatch(/invalid_dpop_proof/);
    const userinfo = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(userinfo.status).toBe(401);
  });

  it('answers an upstream use_dpop_nonce challenge once and replays the call', async () => {
    const { sessionCookie } = await loginThroughGateway(a().url);
    upstream.requireNonce(randomNonce());
    try {
      upstream.calls.length = 0;
      expect((await call(`${a().url}/api/n`, sessionCookie)).status).toBe(200);
      expect(upstream.calls.map((c) => c.error ?? c.status)).toEqual(['use_dpop_nonce', 200]);
      // the nonce is remembered: the next call needs no challenge
      expect((await call(`${a().url}/api/n`, sessionCookie)).status).toBe(200);
      expect(upstream.calls).toHaveLength(3);
    } finally {
      upstream.requireNonce(null);
    }
  });

  it('binds a token got by exchange to the same key', async () => {
    const { sessionCookie } = await loginThroughGateway(a().url);
    const { jkt, accessToken } = await sessionKeyThumbprint(sessionCookie);
    upstream.calls.length = 0;
    const res = await call(`${b().url}/orders/1`, sessionCookie);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ sub: 'alice', jkt, scheme: 'DPoP' });
    const exchanged = upstream.calls.at(-1)!.token!;
    expect(exchanged).not.toBe(accessToken);
    expect((await introspect(idp, exchanged)) as unknown).toMatchObject({ aud: 'https://orders.example', cnf: { jkt } });
  });

  it('keeps the binding made on instance A through a refresh on instance B', async () => {
    const cookie = await expiringSession(idp, a().url);
    const before = await sessionKeyThumbprint(cookie);
    idp.resetStats();
    upstream.calls.length = 0;
    expect((await call(`${b().url}/api/after-refresh`, cookie)).status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
    const after = await sessionKeyThumbprint(cookie);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.jkt).toBe(before.jkt);
    expect((await introspect(idp, after.accessToken)).cnf?.jkt).toBe(before.jkt);
    expect(upstream.calls.at(-1)?.jkt).toBe(before.jkt);
  });

  it('still makes one refresh for a storm over two instances, every call with a valid proof', async () => {
    const cookie = await expiringSession(idp, a().url);
    const { jkt } = await sessionKeyThumbprint(cookie);
    idp.resetStats();
    upstream.calls.length = 0;
    const results = await storm(gws.gateways, cookie, 60, '/api/storm');
    expect(countStatuses(results)).toEqual({ 200: 60 });
    expect(idp.stats.refreshes).toBe(1);
    // a use_dpop_nonce answer is the IdP's nonce challenge (answered), not a failed refresh
    expect(Object.keys(idp.stats.refreshFailuresByError).filter((e) => e !== 'use_dpop_nonce')).toEqual([]);
    expect(new Set(upstream.calls.map((c) => c.jkt))).toEqual(new Set([jkt]));
    expect(new Set(upstream.calls.map((c) => c.token)).size).toBe(1);
  });
});

describe('the kind of session key', () => {
  it('is ES256 with an IdP that takes only ES256 for DPoP, and the upstream still verifies every proof', async () => {
    const es256Idp = await startTestIdp({ accessTokenTtl: 3600, configure: (c) => { c.enabledJWA = { dPoPSigningAlgValues: ['ES256'] }; } });
    const es256Upstream = await startDpopUpstream(es256Idp);
    const gw = await startGateway({ idp: es256Idp, store: redis.url, routes: [{ prefix: '/api', upstream: es256Upstream.url }], config: { oidc: { dpop: true } } });
    try {
      const { sessionCookie } = await loginThroughGateway(gw.url);
      const { jkt, accessToken, kty } = await sessionKeyThumbprint(sessionCookie);
      expect(kty).toBe('EC');
      expect((await introspect(es256Idp, accessToken)).cnf?.jkt).toBe(jkt);
      expect((await call(`${gw.url}/api/x`, sessionCookie)).status).toBe(200);
      expect(es256Upstream.calls.map((c) => [c.status, c.alg, c.jkt])).toEqual([[200, 'ES256', jkt]]);
    } finally {
      await gw.close();
      await es256Upstream.close();
      await es256Idp.close();
    }
  });

  it('makes ES256 keys by default, and a session made so stays ES256 through calls and a refresh on an instance that makes Ed25519 keys', async () => {
    // the default oidc.dpopAlgs: ES256 even though the IdP accepts Ed25519
    const old = await startGateway({ idp, store: redis.url, routes: [{ prefix: '/api', upstream: upstream.url }], config: { oidc: { dpop: true } } });
    try {
      const cookie = await expiringSession(idp, old.url);
      const before = await sessionKeyThumbprint(cookie);
      expect(before.kty).toBe('EC');
      idp.resetStats();
      upstream.calls.length = 0;
      expect((await call(`${a().url}/api/after-refresh`, cookie)).status).toBe(200);
      expect(idp.stats.refreshes).toBe(1);
      const after = await sessionKeyThumbprint(cookie);
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.jkt).toBe(before.jkt);
      expect((await introspect(idp, after.accessToken)).cnf?.jkt).toBe(before.jkt);
      expect(upstream.calls.map((c) => [c.status, c.alg, c.jkt])).toEqual([[200, 'ES256', before.jkt]]);
      // the new token alone, without its proof, is still worth nothing
      const noProof = await fetch(`${upstream.url}/api/x`, { headers: { authorization: `DPoP ${after.accessToken}` } });
      expect(noProof.status).toBe(401);
    } finally {
      await old.close();
    }
  });
});
