import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// The gateway refreshes when the access token expires within refreshBefore (60 s here).
// A login while the IdP issues 30 s access tokens gives a session that needs a refresh at
// once; the refreshed tokens live an hour, so exactly one refresh is due per login.

let stack: Stack;
let idp: TestIdp;
let upstream: Stack['upstream'];
let gw: Stack['gw'];

beforeAll(async () => {
  stack = await startStack({ idp: {}, routes: (url) => [{ prefix: '/api', upstream: url }] });
  ({ idp, upstream, gw } = stack);
});

afterAll(async () => stack?.close());

beforeEach(() => {
  idp.faults.setTokenEndpointFailure(null);
  idp.faults.setTokenEndpointDelay(0);
});

async function expiringSession(): Promise<string> {
  idp.setAccessTokenTtl(30);
  const { sessionCookie } = await loginThroughGateway(gw.url);
  idp.setAccessTokenTtl(3600);
  idp.resetStats();
  return sessionCookie;
}

const callApi = (cookie: string) => fetch(`${gw.url}/api/data`, { headers: { 'x-csrf': '1', cookie } });
const bearerSeen = () => upstream.seen.at(-1)?.headers.authorization;

describe('refresh', () => {
  it('refreshes an expiring token once, stores the rotated refresh token, and uses the new token', async () => {
    const cookie = await expiringSession();
    const first = await callApi(cookie);
    expect(first.status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
    const afterRefresh = bearerSeen();

    // the new token is fresh: no further refresh, same bearer
    expect((await callApi(cookie)).status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
    expect(bearerSeen()).toBe(afterRefresh);

    expect(idp.stats.grantRevocations).toBe(0);
  });

  it('stores each rotated refresh token: consecutive refreshes all succeed', async () => {
    const cookie = await expiringSession();
    // refreshed tokens expire within the window too, so every call refreshes; a gateway that
    // kept presenting a consumed refresh token would get invalid_grant and the grant revoked
    idp.setAccessTokenTtl(30);
    for (let i = 0; i < 3; i++) expect((await callApi(cookie)).status).toBe(200);
    expect(idp.stats.refreshes).toBe(3);
    expect(idp.stats.refreshFailures).toBe(0);
    expect(idp.stats.grantRevocations).toBe(0);
    expect(new Set(upstream.seen.slice(-3).map((s) => s.headers.authorization)).size).toBe(3);
  });

  it('makes exactly one refresh for 50 concurrent calls on one expired session', async () => {
    const cookie = await expiringSession();
    const responses = await Promise.all(Array.from({ length: 50 }, () => callApi(cookie)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(idp.stats.refreshes).toBe(1);
    expect(idp.stats.refreshFailures).toBe(0);
    expect(idp.stats.grantRevocations).toBe(0);
    const bearers = new Set(upstream.seen.slice(-50).map((s) => s.headers.authorization));
    expect(bearers.size).toBe(1);
  });

  it('ends the session with 401 session_expired when the IdP answers invalid_grant', async () => {
    const cookie = await expiringSession();
    idp.faults.setTokenEndpointFailure(400, { error: 'invalid_grant', error_description: 'grant revoked' });
    const res = await callApi(cookie);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'session_expired' });
    idp.faults.setTokenEndpointFailure(null);
    // the session is gone: even with the IdP healthy again it stays logged out
    const again = await callApi(cookie);
    expect(again.status).toBe(401);
    expect(await again.json()).toEqual({ error: 'unauthenticated' });
  });

  it.each([503, 500])('answers 503 token_service_unavailable with Retry-After when the IdP answers %i, and keeps the session', async (status) => {
    const cookie = await expiringSession();
    idp.faults.setTokenEndpointFailure(status);
    const res = await callApi(cookie);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await res.json()).toEqual({ error: 'token_service_unavailable' });
    idp.faults.setTokenEndpointFailure(null);
    expect((await callApi(cookie)).status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
  });

  it('answers 503 when the IdP is down and keeps the session for when it is back', async () => {
    const cookie = await expiringSession();
    await idp.stopListening();
    try {
      const res = await callApi(cookie);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'token_service_unavailable' });
    } finally {
      await idp.resumeListening();
    }
    expect((await callApi(cookie)).status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
  });
});
