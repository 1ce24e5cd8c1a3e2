import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, loginThroughGateway, parseSetCookie } from '../helpers/login.js';
import { followToCallback, RecordingJar, startLogin } from '../helpers/login-steps.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Issue 12, items 1, 2 and 8 (callback): anonymous logins cost the store nothing, returnTo
// is bounded and Location-safe, and the callback checks the state before it acts on error=.

let stack: Stack;
let gw: Stack['gw'];
const LOGIN_COOKIE = '__Host-bff-login';

beforeAll(async () => {
  stack = await startStack({ redis: { mustControl: true }, routes: (url) => [{ prefix: '/api', upstream: url }] });
  ({ gw } = stack);
});

afterAll(async () => stack?.close());

const get = (path: string, cookie = '') =>
  fetch(`${gw.url}${path}`, { headers: { 'x-csrf': '1', ...(cookie ? { cookie } : {}) }, redirect: 'manual' });

const setCookieOf = (res: Response, name: string) =>
  res.headers.getSetCookie().map(parseSetCookie).find((c) => c?.name === name);

describe('anonymous logins and the store', () => {
  it('writes nothing lasting to the store however many logins start', async () => {
    const redis = stack.redis.client();
    const returnTo = `/deep/${'a'.repeat(2000)}`;
    // one login first, so whatever a first call sets up once (connections, scripts) is there
    expect((await get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`)).status).toBe(302);
    const keysBefore = await redis.dbsize();
    const memoryBefore = await usedMemory(redis);
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`)),
      );
      for (const res of answers) {
        expect(res.status).toBe(302);
        await res.body?.cancel();
      }
    }
    expect(await redis.dbsize()).toBe(keysBefore);
    // 200 logins kept in the store, as before, were ~3 KB each: 600 KB; allow allocator noise
    expect((await usedMemory(redis)) - memoryBefore).toBeLessThan(64 * 1024);
    // and a login still works end to end, with the long returnTo
    const { sessionCookie, location } = await loginThroughGateway(gw.url, { returnTo });
    expect(location).toBe(returnTo);
    expect((await get('/auth/user', sessionCookie)).status).toBe(200);
  });

  it('keeps the login cookie HttpOnly, SameSite=Lax, 10 minutes and under 4 KB with a 2048-character returnTo', async () => {
    const returnTo = `/${'b'.repeat(2047)}`;
    const res = await get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
    expect(res.status).toBe(302);
    const header = res.headers.getSetCookie().find((c) => c.startsWith(`${LOGIN_COOKIE}=`)) ?? '';
    expect(header.length).toBeGreaterThan(2048);
    expect(header.length).toBeLessThan(3300);
    const cookie = parseSetCookie(header)!;
    expect(cookie.attributes.has('httponly')).toBe(true);
    expect(cookie.attributes.get('samesite')?.toLowerCase()).toBe('lax');
    expect(cookie.attributes.get('max-age')).toBe('600');
    expect(cookie.attributes.get('path')).toBe('/');
    // the returnTo is sealed, not readable in the cookie
    expect(cookie.value).not.toContain('bbbbbbbb');
  });

  it('refuses a replayed callback (same state, code and cookie) and a second code for a used state', async () => {
    const jar = new RecordingJar();
    await loginThroughGateway(gw.url, { jar, returnTo: '/first' });
    const callback = jar.find('/auth/callback')!;
    const authorization = jar.requests[1]!.url; // the IdP's authorization endpoint
    expect(new URL(authorization).searchParams.get('state')).toBeTruthy();

    const replay = await get(new URL(callback.url).pathname + new URL(callback.url).search, callback.cookie);
    expect(replay.status).toBe(400);

    // the authorization URL again (the IdP session answers at once): a new code, same state
    const second = await followToCallback(jar, authorization);
    expect(new URL(second).searchParams.get('code')).not.toBe(new URL(callback.url).searchParams.get('code'));
    const reused = await get(new URL(second).pathname + new URL(second).search, callback.cookie);
    expect(reused.status).toBe(400);
    expect(((await reused.json()) as { error: string }).error).toBe('invalid_state');
    expect(setCookieOf(reused, '__Host-bff')).toBeUndefined();
  });

  it('refuses a tampered login cookie as an unknown state', async () => {
    const jar = new CookieJar();
    const { authorizationUrl, cookie } = await startLogin(jar, gw.url);
    const callbackUrl = await followToCallbackAfterLogin(jar, authorizationUrl);
    const tampered = cookie.replace(/=(.)/, (_m, c: string) => `=${c === 'A' ? 'B' : 'A'}`);
    const res = await get(callbackUrl, tampered);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_state');
  });
});

describe('returnTo', () => {
  it.each([
    ['2049 characters', `/${'c'.repeat(2048)}`],
    ['non-Latin-1', '/日本語/ページ'],
    ['Latin-1 past ASCII', '/café'],
    ['a space', '/a b'],
    ['a control character', '/a\tb'],
  ])('refuses %s with 400 invalid_request and no login cookie', async (_name, returnTo) => {
    const res = await get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    expect(setCookieOf(res, LOGIN_COOKIE)).toBeUndefined();
  });

  it('refuses a returnTo given twice', async () => {
    const res = await get('/auth/login?returnTo=/a&returnTo=/b');
    expect(res.status).toBe(400);
  });

  it('takes percent-encoded non-ASCII and exactly 2048 characters, and sends the browser there', async () => {
    const encoded = `/${encodeURIComponent('日本語')}?q=${encodeURIComponent('é')}#top`;
    expect((await loginThroughGateway(gw.url, { returnTo: encoded })).location).toBe(encoded);
    const longest = `/${'d'.repeat(2047)}`;
    expect((await loginThroughGateway(gw.url, { returnTo: longest })).location).toBe(longest);
  });

  it('leaves the previous session alone when a callback fails', async () => {
    const jar = new CookieJar();
    const first = await loginThroughGateway(gw.url, { jar });
    const { authorizationUrl } = await startLogin(jar, gw.url, '?returnTo=/again');
    const callbackUrl = await followToCallback(jar, authorizationUrl);
    const bad = new URL(callbackUrl);
    bad.searchParams.set('code', 'not-a-code');
    const res = await jar.fetch(bad);
    expect(res.status).toBe(400);
    expect((await get('/auth/user', first.sessionCookie)).status).toBe(200);
  });
});

describe('the callback checks the state before error=', () => {
  it('answers invalid_state to an error= without the right state, and the login goes on', async () => {
    const forged: Response[] = [];
    const jar = new RecordingJar();
    jar.beforeCallback = async (url, cookie) => {
      const { state } = Object.fromEntries(new URL(url).searchParams);
      forged.push(await get('/auth/callback?error=access_denied&error_description=forged', cookie));
      forged.push(await get(`/auth/callback?error=access_denied&state=${state}x`, cookie));
      forged.push(await get('/auth/callback?error=access_denied', ''));
    };
    const { location } = await loginThroughGateway(gw.url, { jar, returnTo: '/still-works' });
    expect(location).toBe('/still-works');
    expect(forged).toHaveLength(3);
    for (const res of forged) {
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_state');
      expect(setCookieOf(res, LOGIN_COOKIE)).toBeUndefined(); // the login in progress is not ended
    }
  });

  it('passes the IdP error on as 400 with the right state, and ends that login', async () => {
    const jar = new CookieJar();
    const { state, cookie } = await startLogin(jar, gw.url);
    const res = await get(`/auth/callback?error=access_denied&error_description=nope&state=${state}`, cookie);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'access_denied', error_description: 'nope' });
    expect(setCookieOf(res, LOGIN_COOKIE)?.expired).toBe(true);
  });
});

async function usedMemory(redis: ReturnType<Stack['redis']['client']>): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/** Logs in at the IdP for a login already started in `jar`, stopping before the callback. */
async function followToCallbackAfterLogin(jar: CookieJar, authorizationUrl: string): Promise<string> {
  let url = authorizationUrl;
  for (let step = 0; step < 20; step++) {
    if (new URL(url).pathname.endsWith('/auth/callback')) return new URL(url).pathname + new URL(url).search;
    const response = await jar.fetch(url);
    const location = response.headers.get('location');
    if (location) { await response.body?.cancel(); url = new URL(location, url).href; continue; }
    const html = await response.text();
    const action = /<form\b[^>]*id="login"[^>]*action="([^"]*)"|<form\b[^>]*action="([^"]*)"[^>]*id="login"/i.exec(html);
    const target = new URL((action?.[1] ?? action?.[2] ?? '').replaceAll('&amp;', '&'), url).href;
    const posted = await jar.fetch(target, { method: 'POST', body: new URLSearchParams({ username: 'alice', password: 'wonderland' }) });
    url = new URL(posted.headers.get('location') ?? '', target).href;
    await posted.body?.cancel();
  }
  throw new Error('no callback');
}
