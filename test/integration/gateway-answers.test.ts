import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { loginThroughGateway } from '../helpers/login.js';
import { headersOf, slowRequest, statusOf } from '../helpers/slow-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Issue 12, item 8: every answer the gateway writes itself (its JSON errors, /auth/*,
// /healthz, /readyz, 404s, the 408 of a request that did not arrive in time) carries
// `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`; what an upstream answers
// passes as the upstream sent it.

let stack: Stack;
let cookie: string;

beforeAll(async () => {
  const closedPort = await freePort();
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: (url) => [
      { prefix: '/api', upstream: url },
      { prefix: '/down', upstream: `http://127.0.0.1:${closedPort}`, token: 'none', requireSession: false },
    ],
    gateway: { config: { server: { requestTimeout: '1s' } } },
  });
  cookie = (await loginThroughGateway(stack.gw.url)).sessionCookie;
}, 60_000);

afterAll(async () => stack?.close());

const csrf = { 'x-csrf': '1' };

/** [what, method, path, headers, body, the status it must have] */
type Probe = [string, string, string, Record<string, string>, string | undefined, number];

function probes(): Probe[] {
  const withSession = { ...csrf, cookie };
  return [
    ['liveness', 'GET', '/healthz', {}, undefined, 200],
    ['readiness', 'GET', '/readyz', {}, undefined, 200],
    ['an unknown path', 'GET', '/nowhere', {}, undefined, 404],
    ['a refused returnTo', 'GET', '/auth/login?returnTo=//evil.example', {}, undefined, 400],
    ['a callback with an unknown state', 'GET', '/auth/callback?code=x&state=y', {}, undefined, 400],
    ['/auth/user without the CSRF header', 'GET', '/auth/user', {}, undefined, 403],
    ['/auth/user without a session', 'GET', '/auth/user', csrf, undefined, 401],
    ['/auth/user', 'GET', '/auth/user', withSession, undefined, 200],
    ['an invalid logout token', 'POST', '/auth/backchannel-logout', { 'content-type': 'application/x-www-form-urlencoded' }, 'logout_token=x.y.z', 400],
    ['a proxied call without the CSRF header', 'GET', '/api/x', { cookie }, undefined, 403],
    ['a proxied call without a session', 'GET', '/api/x', csrf, undefined, 401],
    ['an upstream that is away', 'GET', '/down/x', {}, undefined, 502],
  ];
}

describe("the gateway's own answers", () => {
  it('carry nosniff and no-store, every one of them', async () => {
    const missing: string[] = [];
    for (const [what, method, path, headers, body, status] of probes()) {
      const res = await fetch(`${stack.gw.url}${path}`, { method, headers, body, redirect: 'manual' });
      await res.arrayBuffer();
      expect(res.status, what).toBe(status);
      if (res.headers.get('content-type')?.startsWith('application/json') !== true) missing.push(`${what}: not JSON`);
      if (res.headers.get('x-content-type-options') !== 'nosniff') missing.push(`${what}: no nosniff`);
      if (res.headers.get('cache-control') !== 'no-store') missing.push(`${what}: cache-control ${res.headers.get('cache-control')}`);
    }
    expect(missing).toEqual([]);
  });

  it('carry them on a logout, a login redirect, and a request that timed out', async () => {
    const login = await fetch(`${stack.gw.url}/auth/login?returnTo=/here`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(login.headers.get('x-content-type-options')).toBe('nosniff');
    expect(login.headers.get('cache-control')).toBe('no-store');

    const timedOut = await slowRequest(Number(new URL(stack.gw.url).port), {
      head: 'POST /down/x HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 10', body: 'raw', everyMs: 300,
    }).closed;
    expect(statusOf(timedOut)).toBe('408');
    expect(headersOf(timedOut)).toContain('x-content-type-options: nosniff');
    expect(headersOf(timedOut)).toContain('cache-control: no-store');

    const { sessionCookie } = await loginThroughGateway(stack.gw.url);
    const logout = await fetch(`${stack.gw.url}/auth/logout`, { method: 'POST', headers: { ...csrf, cookie: sessionCookie } });
    expect(logout.status).toBe(200);
    expect(logout.headers.get('x-content-type-options')).toBe('nosniff');
    expect(logout.headers.get('cache-control')).toBe('no-store');
  }, 30_000);
});

describe('proxied answers', () => {
  it("pass with the upstream's own headers, nothing added", async () => {
    stack.upstream.respond((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' });
      res.end('{"cached":true}');
    });
    const cacheable = await fetch(`${stack.gw.url}/api/cacheable`, { headers: { ...csrf, cookie } });
    stack.upstream.respond(undefined);
    expect(cacheable.status).toBe(200);
    expect(cacheable.headers.get('cache-control')).toBe('public, max-age=60');
    expect(cacheable.headers.get('x-content-type-options')).toBeNull();

    const plain = await fetch(`${stack.gw.url}/api/plain`, { headers: { ...csrf, cookie } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBeNull();
    expect(plain.headers.get('x-content-type-options')).toBeNull();
  });
});
