import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BFF_CLIENT_SECRET } from '../helpers/idp.js';
import { call, expiringSession } from '../helpers/instances.js';
import { startStack, type Stack } from '../helpers/stack.js';

// A route with `scope` gets a narrower access token, obtained with the session's refresh
// token and `scope`, and cached in the session. The main refresh token keeps the grant's
// full scope, so the main access token still carries every scope after a downscoped refresh.

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: (url) => [
      { prefix: '/api', upstream: url },
      { prefix: '/profile', upstream: url, scope: 'openid profile' },
    ],
    gateway: { config: { oidc: { scope: 'openid profile email offline_access' } } },
  });
});

afterAll(async () => stack?.close());

/** The scope the IdP recorded for an access token (RFC 7662 introspection). */
async function scopeOf(bearer: string | undefined): Promise<string[]> {
  const token = (bearer ?? '').replace(/^Bearer /, '');
  const res = await fetch(`${stack.idp.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`bff:${BFF_CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  const body = (await res.json()) as { active: boolean; scope?: string };
  expect(body.active).toBe(true);
  return (body.scope ?? '').split(' ').sort();
}

const lastBearer = () => stack.upstream.seen.at(-1)?.headers.authorization;

describe('downscoped tokens per route', () => {
  it('sends a narrower token on a scoped route and keeps the full grant for the rest', async () => {
    const cookie = await expiringSession(stack.idp, stack.gw.url);
    stack.idp.resetStats();

    // the scoped route: one refresh with scope, a token holding only that scope
    expect((await call(`${stack.gw.url}/profile/me`, cookie)).status).toBe(200);
    const scoped = lastBearer();
    expect(await scopeOf(scoped)).toEqual(['openid', 'profile']);
    expect(stack.idp.stats.refreshes).toBe(1);

    // the main route: its expiring token is refreshed with the ROTATED refresh token, and
    // still carries every scope the user granted
    expect((await call(`${stack.gw.url}/api/me`, cookie)).status).toBe(200);
    const main = lastBearer();
    expect(main).not.toBe(scoped);
    expect(await scopeOf(main)).toEqual(expect.arrayContaining(['email', 'openid', 'profile']));
    expect(stack.idp.stats.refreshes).toBe(2);

    // both are cached: no more refreshes, each route keeps its own token
    expect((await call(`${stack.gw.url}/profile/me`, cookie)).status).toBe(200);
    expect(lastBearer()).toBe(scoped);
    expect((await call(`${stack.gw.url}/api/me`, cookie)).status).toBe(200);
    expect(lastBearer()).toBe(main);
    expect(stack.idp.stats.refreshes).toBe(2);
    expect(stack.idp.stats.grantRevocations).toBe(0);
  });

  it('concurrent calls on both routes share one refresh token without ever reusing it', async () => {
    const cookie = await expiringSession(stack.idp, stack.gw.url);
    stack.idp.resetStats();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(`${stack.gw.url}/${i % 2 ? 'profile' : 'api'}/x`, cookie)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(stack.idp.stats.refreshes).toBe(2); // one per token: main and scoped
    expect(stack.idp.stats.grantRevocations).toBe(0);
    expect(stack.idp.stats.refreshFailures).toBe(0);
  });
});
