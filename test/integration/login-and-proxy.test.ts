import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startGateway } from '../helpers/gateway.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let idp: TestIdp;
let upstream: Stack['upstream'];
let gw: Stack['gw'];

beforeAll(async () => {
  stack = await startStack({ idp: { accessTokenTtl: 3600 }, routes: (url) => [
      { prefix: '/api', upstream: url, rewritePrefix: '/v1' },
      { prefix: '/public', upstream: url, token: 'none' },
    ] });
  ({ idp, upstream, gw } = stack);
});

afterAll(async () => stack?.close());

const call = (path: string, init: { cookie?: string; headers?: Record<string, string>; method?: string; body?: string } = {}) =>
  fetch(`${gw.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { 'x-csrf': '1', ...(init.cookie ? { cookie: init.cookie } : {}), ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
    redirect: 'manual',
  });

describe('login round trip', () => {
  it('logs in through the IdP and shows the user without any token', async () => {
    const { sessionCookie, location } = await loginThroughGateway(gw.url, { returnTo: '/after' });
    expect(location).toBe('/after');
    const res = await call('/auth/user', { cookie: sessionCookie });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sub: string; claims: Record<string, unknown>; session: Record<string, string> };
    expect(body.sub).toBe('alice');
    expect(body.claims.name).toBe('Alice Liddell');
    expect(Date.parse(body.session.expiresAt ?? '')).toBeGreaterThan(Date.now());
    expect(Date.parse(body.session.idleExpiresAt ?? '')).toBeGreaterThan(Date.now());
    expect(JSON.stringify(body)).not.toMatch(/token/i);
  });

  it('sets the session cookie HttpOnly, Path=/, SameSite=Strict', async () => {
    const { callbackSetCookies } = await loginThroughGateway(gw.url);
    const setCookie = callbackSetCookies.find((c) => c.startsWith('__Host-bff='));
    expect(setCookie).toMatch(/^__Host-bff=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).toMatch(/SameSite=Strict/i);
  });

  it('requires the x-csrf header on /auth/user', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const res = await fetch(`${gw.url}/auth/user`, { headers: { cookie: sessionCookie } });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'csrf_header_missing' });
  });

  it.each(['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', 'relative', '/ok\r\nx: y'])(
    'refuses returnTo=%s with 400',
    async (returnTo) => {
      const res = await call(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    },
  );

  it('answers 400 to a callback with an unknown state or without the login cookie', async () => {
    const res = await call('/auth/callback?code=abc&state=forged');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_state');
    expect(body.error_description).toBeTruthy();
  });

  it('answers invalid_state to an IdP error that is not the answer to this browser\'s login', async () => {
    // with the right state the IdP's error is passed on: login-hardening.test.ts
    const res = await call('/auth/callback?error=access_denied&error_description=nope');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_state');
  });
});

describe('proxied calls', () => {
  it('forwards with the bearer token, strips the gateway cookie, keeps other cookies', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    upstream.seen.length = 0;
    const res = await call('/api/orders?x=1', {
      cookie: `${sessionCookie}; theme=dark`,
      headers: { authorization: 'Basic c3B5OnNweQ==' },
    });
    expect(res.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen.url).toBe('/v1/orders?x=1');
    expect(seen.headers.authorization).toMatch(/^Bearer \S+$/);
    expect(seen.headers.cookie).toBe('theme=dark');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(gw.url).host);
  });

  it('behind a trusted proxy (trustProxy: an address) passes on the trusted part of X-Forwarded-For only', async () => {
    const behindOne = await startGateway({
      idp,
      store: 'memory',
      routes: [{ prefix: '/public', upstream: upstream.url, token: 'none' }],
      config: { server: { trustProxy: '127.0.0.1' } },
    });
    try {
      upstream.seen.length = 0;
      // the trusted proxy (the loopback peer) appended 203.0.113.7, the client it saw;
      // 6.6.6.6 came from that client and is not to be believed
      const res = await fetch(`${behindOne.url}/public/ip`, { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.7' } });
      expect(res.status).toBe(200);
      expect(upstream.seen.at(-1)!.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    } finally {
      await behindOne.close();
    }
  });

  it('streams a request body to the upstream', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const payload = JSON.stringify({ big: 'x'.repeat(100_000) });
    const res = await call('/api/upload', { cookie: sessionCookie, method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)!.body.toString()).toBe(payload);
  });

  it('answers 403 without x-csrf, 401 without a session', async () => {
    const noCsrf = await fetch(`${gw.url}/api/x`);
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.json()).toEqual({ error: 'csrf_header_missing' });
    const noSession = await call('/api/x');
    expect(noSession.status).toBe(401);
    expect(await noSession.json()).toEqual({ error: 'unauthenticated' });
  });

  it('forwards token: none routes as they are, without a session, but never the gateway cookie', async () => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const res = await fetch(`${gw.url}/public/page`, {
      headers: { authorization: 'Bearer client-own', cookie: `${sessionCookie}; a=1` },
    });
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)!.headers.authorization).toBe('Bearer client-own');
    expect(upstream.seen.at(-1)!.headers.cookie).toBe('a=1');
  });

  it.each([
    ['tampered', (c: string) => c.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'))],
    ['forged', (c: string) => `${c.split('=')[0]}=${'a'.repeat(43)}.${'b'.repeat(43)}`],
    ['oversized', (c: string) => `${c.split('=')[0]}=${'a'.repeat(8000)}`],
    ['unsigned', (c: string) => `${c.split('=')[0]}=${'a'.repeat(43)}`],
  ])('answers 401 to a %s cookie', async (_name, mangle) => {
    const { sessionCookie } = await loginThroughGateway(gw.url);
    const res = await call('/api/x', { cookie: mangle(sessionCookie) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthenticated' });
  });
});
