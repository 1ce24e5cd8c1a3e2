import * as oidc from 'openid-client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BFF_CLIENT_SECRET, type TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { peekSession, sessionIdOf } from '../helpers/session-peek.js';

let stack: Stack;
let idp: TestIdp;
let upstream: Stack['upstream'];
let gw: Stack['gw'];
let client: Redis;

beforeAll(async () => {
  stack = await startStack({ idp: { accessTokenTtl: 30 }, routes: (url) => [{ prefix: '/api', upstream: url }] });
  ({ idp, upstream, gw } = stack);
  client = stack.redis.client();
});

afterAll(async () => stack?.close());

const post = (path: string, cookie: string, headers: Record<string, string> = { 'x-csrf': '1' }) =>
  fetch(`${gw.url}${path}`, { method: 'POST', headers: { ...headers, cookie } });

async function refreshAtIdp(refreshToken: string): Promise<unknown> {
  const config = await oidc.discovery(new URL(idp.issuer), 'bff', BFF_CLIENT_SECRET, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  return oidc.refreshTokenGrant(config, refreshToken).then(
    () => 'accepted',
    (e: unknown) => (e instanceof oidc.ResponseBodyError ? e.error : e),
  );
}

/** Every key and value in Redis, as text (binary values as latin1, so a token's bytes would show). */
async function dumpRedis(): Promise<string> {
  const parts: string[] = [];
  for (const key of await client.keys('*')) {
    parts.push(key);
    const type = await client.type(key);
    if (type === 'hash') {
      const h = await client.hgetallBuffer(key);
      for (const [f, v] of Object.entries(h)) parts.push(f, v.toString('latin1'));
    } else if (type === 'string') {
      parts.push((await client.getBuffer(key))?.toString('latin1') ?? '');
    } else {
      parts.push(`(${type})`);
    }
  }
  return parts.join('\n');
}

describe('logout', () => {
  it('needs x-csrf', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const res = await post('/auth/logout', sessionCookie, {});
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'csrf_header_missing' });
  });

  it('revokes the refresh token, deletes the session, expires the cookie and answers the logout URL', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const before = await peekSession(client, sessionCookie);
    expect(before?.tokens.refreshToken).toBeTruthy();
    const revocations = idp.stats.revocations;

    const res = await post('/auth/logout', sessionCookie);
    expect(res.status).toBe(200);
    const { logoutUrl } = (await res.json()) as { logoutUrl: string };
    const url = new URL(logoutUrl);
    expect(url.searchParams.get('id_token_hint')).toBe(before?.tokens.idToken);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe(`${gw.url}/`);
    const expired = res.headers.getSetCookie().find((c) => c.startsWith('__Host-bff='));
    expect(expired).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);

    expect(idp.stats.revocations).toBe(revocations + 1);
    expect(await refreshAtIdp(before!.tokens.refreshToken!)).toBe('invalid_grant');
    expect(await peekSession(client, sessionCookie)).toBeNull();
    const after = await fetch(`${gw.url}/api/x`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(after.status).toBe(401);
  });
});

describe('secrets at rest and in logs', () => {
  it('never shows a token, the session id or the cookie in Redis or in the logs', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const secrets = new Set<string>([sessionCookie.slice(sessionCookie.indexOf('=') + 1), sessionIdOf(sessionCookie)]);
    const remember = async () => {
      const s = await peekSession(client, sessionCookie);
      for (const t of [s?.tokens.accessToken, s?.tokens.refreshToken, s?.tokens.idToken]) if (t) secrets.add(t);
    };
    await remember();
    // a call that refreshes (30 s tokens, 60 s window), so rotated tokens are covered too
    const res = await fetch(`${gw.url}/api/x`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(res.status).toBe(200);
    await remember();
    const bearer = upstream.seen.at(-1)?.headers.authorization?.replace(/^Bearer /, '') ?? '';
    expect(secrets.has(bearer)).toBe(true);
    expect(secrets.size).toBeGreaterThanOrEqual(6); // id, cookie, 2 access, 2 refresh (+ id token)

    const stored = await dumpRedis();
    expect(stored).toContain('bff:s:{');
    const logs = gw.logs.join('');
    expect(logs).toContain('/auth/callback');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(20);
      expect(stored.includes(secret)).toBe(false);
      expect(logs.includes(secret)).toBe(false);
    }
    await post('/auth/logout', sessionCookie);
    const logsAfter = gw.logs.join('');
    for (const secret of secrets) expect(logsAfter.includes(secret)).toBe(false);
  });
});
