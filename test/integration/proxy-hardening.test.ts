import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loginThroughGateway } from '../helpers/login.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Hostile clients and careless upstreams against a proxied route (issue 12, items 4-7):
// CSRF on requireSession:false routes, the upstream path built from what routing matched,
// non-origin-form targets and dot segments, code/state in logged URLs, an upstream setting
// the gateway's cookies, and the forwarding headers.

let stack: Stack;
let cookie: string;

beforeAll(async () => {
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: (url) => [
      { prefix: '/api', upstream: url },
      { prefix: '/api/orders', upstream: url, rewritePrefix: '/orders' },
      { prefix: '/open', upstream: url, requireSession: false },
    ],
  });
  ({ sessionCookie: cookie } = await loginThroughGateway(stack.gw.url));
});

afterAll(async () => stack?.close());

beforeEach(() => {
  stack.upstream.seen.length = 0;
  stack.upstream.respond(undefined);
});

const lastSeen = () => stack.upstream.seen.at(-1);

describe('a session token never goes out without x-csrf (requireSession: false)', () => {
  it('a logged-in cookie without x-csrf is forwarded anonymously; with x-csrf it carries the bearer', async () => {
    // what a cross-site form POST looks like: the browser's cookie, no custom header
    const crossSite = await fetch(`${stack.gw.url}/open/transfer`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=1000',
    });
    expect(crossSite.status).toBe(200);
    expect(lastSeen()?.url).toBe('/transfer');
    expect(lastSeen()?.headers.authorization).toBeUndefined();
    expect(lastSeen()?.headers.cookie).toBeUndefined();

    const own = await fetch(`${stack.gw.url}/open/transfer`, { headers: { cookie, 'x-csrf': '1' } });
    expect(own.status).toBe(200);
    expect(lastSeen()?.headers.authorization).toMatch(/^Bearer \S+$/);
  });
});

describe('the upstream path is what routing matched', () => {
  const headers = () => ({ cookie, 'x-csrf': '1' });

  it.each([
    ['/api/%6Frders/x', '/orders/x'],
    ['/%61pi/orders/7?page=%32&q=a%20b', '/orders/7?page=%32&q=a%20b'],
    ['/api/%6frders?x=1', '/orders?x=1'],
    ['/api/a%2Fb/c%20d', '/a%2Fb/c%20d'],
  ])('%s reaches the upstream as %s', async (target, expected) => {
    const res = await rawRequest(stack.gw.url, 'GET', target, headers());
    expect(res.status).toBe(200);
    expect(lastSeen()?.url).toBe(expected);
  });

  it.each([
    ['GET', 'http://other.host/api/x'],
    ['GET', `${'http'}://127.0.0.1/api/x`],
    ['GET', 'http://other.host/auth/user'],
    ['GET', 'http://other.host/healthz'],
    ['GET', '*'],
    ['POST', '*'],
    ['GET', '/api/x#frag'],
    ['GET', '/api/..;/admin'],
    ['GET', '/api/orders/..;jsessionid=1/admin'],
    ['GET', '/api/%2e%2e;x/admin'],
    ['GET', '/api/..%3B/admin'],
    ['GET', '/api/%252e%252e/admin'],
    ['GET', '/api/..%5Cadmin'],
    ['GET', '/api/x/..\\..\\admin'],
    ['GET', '/api/x/..'],
  ])('%s %s: 400 invalid_request, nothing forwarded', async (method, target) => {
    const res = await rawRequest(stack.gw.url, method, target, headers());
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_request' });
    expect(stack.upstream.seen).toHaveLength(0);
  });

  it('a target the router cannot decode gets the same invalid_request answer', async () => {
    const res = await rawRequest(stack.gw.url, 'GET', '/api/%zz/x', headers());
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_request' });
    expect(stack.upstream.seen).toHaveLength(0);
  });

  it('OPTIONS * is not forwarded anywhere', async () => {
    const res = await rawRequest(stack.gw.url, 'OPTIONS', '*', headers());
    expect(res.status).toBeLessThan(500);
    expect(stack.upstream.seen).toHaveLength(0);
  });

  it('logs no code or state value, whatever the path and spelling', async () => {
    const secrets = ['c0de-one', 'st4te-two', 'c0de-three', 'c0de-four', 'st4te-five'];
    await rawRequest(stack.gw.url, 'GET', `/api/x?%63ode=${secrets[0]}&st%61te=${secrets[1]}`, headers());
    await rawRequest(stack.gw.url, 'GET', `/open/y?page=1&code=${secrets[2]}&CODE=${secrets[3]}`, headers());
    await rawRequest(stack.gw.url, 'GET', `http://other.host/api/x?state=${secrets[4]}`, headers());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = stack.gw.logs.join('');
    expect(lines).toContain('[redacted]');
    for (const secret of secrets) expect(lines).not.toContain(secret);
  });
});

describe("an upstream cannot set the gateway's cookies", () => {
  it("drops Set-Cookie lines for the session and login cookies, keeps the others, warns without the value", async () => {
    stack.upstream.respond((_req, res) => {
      res.setHeader('set-cookie', ['__Host-bff=planted-session; Path=/; HttpOnly', '__Host-bff-login=planted-login; Path=/', 'theme=dark; Path=/']);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const res = await fetch(`${stack.gw.url}/api/prefs`, { headers: { cookie, 'x-csrf': '1' } });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual(['theme=dark; Path=/']);
    const warning = stack.gw.logs.find((line) => line.includes("gateway's own cookies"));
    expect(warning).toBeDefined();
    expect(warning).toContain('__Host-bff');
    expect(stack.gw.logs.join('')).not.toContain('planted');
  });
});

describe('forwarding headers', () => {
  it("replaces the client's Forwarded and X-Real-IP, drops Proxy-Authorization and the headers Connection names", async () => {
    const res = await rawRequest(stack.gw.url, 'GET', '/api/hop', {
      cookie,
      'x-csrf': '1',
      forwarded: 'for=6.6.6.6;host=evil.example;proto=https',
      'x-real-ip': '6.6.6.6',
      'x-forwarded-for': '6.6.6.6',
      'proxy-authorization': 'Basic c2VjcmV0OnNlY3JldA==',
      connection: 'close, X-Hop-Secret, x-other-hop',
      'x-hop-secret': 'internal',
      'X-Other-Hop': 'internal',
      'x-kept': 'yes',
    });
    expect(res.status).toBe(200);
    const seen = lastSeen()!.headers;
    const { port } = new URL(stack.gw.url);
    expect(seen.forwarded).toBe(`for=127.0.0.1;host="127.0.0.1:${port}";proto=http`);
    expect(seen['x-real-ip']).toBe('127.0.0.1');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen['x-hop-secret']).toBeUndefined();
    expect(seen['x-other-hop']).toBeUndefined();
    expect(seen['x-kept']).toBe('yes');
    expect(seen.authorization).toMatch(/^Bearer /);
  });
});
