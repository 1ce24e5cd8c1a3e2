import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, loginThroughGateway, parseSetCookie } from '../helpers/login.js';
import { followToCallback, startLogin } from '../helpers/login-steps.js';
import { startStack, type Stack } from '../helpers/stack.js';

// Issue 15, silent login: /auth/login?prompt=none against oidc-provider, without and with
// an IdP session. Errors go back to returnTo as ?error=<code>, never an error page.

let stack: Stack;
let gw: Stack['gw'];

beforeAll(async () => {
  stack = await startStack({ routes: (url) => [{ prefix: '/api', upstream: url }] });
  ({ gw } = stack);
});

afterAll(async () => stack?.close());

const sessionCookieOf = (res: Response) =>
  res.headers.getSetCookie().map(parseSetCookie).find((c) => c?.name === '__Host-bff' && !c.expired);

/** A silent login through the jar: the callback's answer. */
async function silentLogin(jar: CookieJar, returnTo: string): Promise<Response> {
  const { authorizationUrl } = await startLogin(jar, gw.url, `?prompt=none&returnTo=${encodeURIComponent(returnTo)}`);
  expect(new URL(authorizationUrl).searchParams.get('prompt')).toBe('none');
  const callback = await followToCallback(jar, authorizationUrl);
  const res = await jar.fetch(callback);
  await res.body?.cancel();
  return res;
}

describe('silent login (prompt=none)', () => {
  it('without an IdP session: 302 to returnTo with error=login_required, its own query kept', async () => {
    const jar = new CookieJar();
    const res = await silentLogin(jar, '/p?tab=2&error=old#section');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/p?tab=2&error=login_required#section');
    expect(sessionCookieOf(res)).toBeUndefined();
    expect(jar.get(gw.url, '__Host-bff-login')).toBeUndefined(); // the login is over
  });

  it('with an IdP session: logs in silently, with a new gateway session', async () => {
    const jar = new CookieJar();
    const first = await loginThroughGateway(gw.url, { jar }); // the IdP now has a session in the jar
    const res = await silentLogin(jar, '/p');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/p');
    const cookie = sessionCookieOf(res);
    expect(cookie).toBeDefined();
    const sessionCookie = `${cookie!.name}=${cookie!.value}`;
    expect(sessionCookie).not.toBe(first.sessionCookie);
    const user = await fetch(`${gw.url}/auth/user`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(user.status).toBe(200);
    expect(((await user.json()) as { sub: string }).sub).toBe('alice');
  });

  it('sends any IdP error of a silent login back to returnTo, the right state given', async () => {
    const jar = new CookieJar();
    const { state } = await startLogin(jar, gw.url, '?prompt=none&returnTo=/p');
    const res = await jar.fetch(`${gw.url}/auth/callback?error=consent_required&state=${state}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/p?error=consent_required');
  });

  it('answers a silent callback with a refused code at returnTo too', async () => {
    const jar = new CookieJar();
    const { state } = await startLogin(jar, gw.url, '?prompt=none&returnTo=/p');
    const res = await jar.fetch(`${gw.url}/auth/callback?code=forged&state=${state}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/p\?error=[a-z_]+$/);
  });

  it('still answers a callback without this browser\'s state with 400 (no returnTo to trust)', async () => {
    const jar = new CookieJar();
    await startLogin(jar, gw.url, '?prompt=none&returnTo=/p');
    const res = await jar.fetch(`${gw.url}/auth/callback?error=login_required&state=forged`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_state');
  });

  it.each(['login', 'consent', 'select_account', ''])('refuses prompt=%s with 400', async (prompt) => {
    const res = await fetch(`${gw.url}/auth/login?prompt=${prompt}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
  });
});
