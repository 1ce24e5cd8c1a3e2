import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { introspect } from '../helpers/dpop-check.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';
import { closeOf, openSocket } from '../helpers/ws-client.js';
import { startWsUpstream, type WsUpstream } from '../helpers/ws-upstream.js';

// The token of an upgrade is the one an HTTP call on the same route sends (issue #13: "the
// session rules are those of an HTTP call"): on an `exchange` route the audience-restricted
// token got by RFC 8693 exchange, never the session's own; on a `scope` route the downscoped
// one; also on the second handshake after an upstream's 401 invalid_token. Upgrades used to
// send the session's main token on `exchange` routes.

const APP_ORIGIN = 'http://app.test';
const ORDERS = 'https://orders.example';
const INVALID_TOKEN = 'Bearer error="invalid_token"';

let redis: TestRedis;
let idp: TestIdp;
let upstream: WsUpstream;
let gw: TestGateway;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600, exchangeAudiences: [ORDERS] });
  upstream = await startWsUpstream();
  gw = await startGateway({
    idp,
    store: redis.url,
    routes: [
      { prefix: '/live', upstream: upstream.url, websocket: true },
      { prefix: '/orders', upstream: upstream.url, websocket: true, exchange: { audience: ORDERS } },
      { prefix: '/profile', upstream: upstream.url, websocket: true, scope: 'openid profile' },
      { prefix: '/elsewhere', upstream: upstream.url, websocket: true, exchange: { audience: 'https://not-served.example' } },
    ],
    config: { server: { allowedOrigins: [APP_ORIGIN] }, oidc: { scope: 'openid profile email offline_access' } },
  });
});

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

beforeEach(() => {
  upstream.refuse(undefined);
  upstream.handshakes.length = 0;
  upstream.refused.length = 0;
  upstream.requests.length = 0;
});

/** A fresh session (its login is not counted in the IdP's stats) and its own access token. */
async function session(): Promise<{ cookie: string; own: string }> {
  const { sessionCookie } = await loginThroughGateway(gw.url);
  idp.resetStats();
  const data = await peekSession(redis.client(), sessionCookie);
  return { cookie: sessionCookie, own: data!.tokens.accessToken };
}

const bearerOf = (auth: string | string[] | undefined) => String(auth ?? '').replace(/^Bearer /, '');

/** Opens a socket on `path`, closes it, and returns the token the upstream's handshake carried. */
async function upgradeToken(path: string, cookie: string): Promise<string> {
  const opened = await openSocket(`${gw.url}${path}`, { cookie, origin: APP_ORIGIN });
  expect(opened.status).toBe(101);
  opened.socket!.close();
  await closeOf(opened.socket!);
  return bearerOf(upstream.handshakes.at(-1)?.headers.authorization);
}

/** The token an HTTP call on `path` sends upstream (the ws upstream answers it 404). */
async function httpToken(path: string, cookie: string): Promise<string> {
  expect((await call(`${gw.url}${path}`, cookie)).status).toBe(404);
  return bearerOf(upstream.requests.at(-1)?.headers.authorization);
}

describe('the token of an upgrade', () => {
  it('on an exchange route: the exchanged, audience-restricted token, the one an HTTP call sends, exchanged once', async () => {
    const { cookie, own } = await session();
    const token = await upgradeToken('/orders/feed', cookie);
    expect(token).not.toBe(own);
    expect(await introspect(idp, token)).toMatchObject({ active: true, aud: ORDERS, sub: 'alice' });
    expect(idp.stats.tokenExchanges).toBe(1);
    // kept in the session: the HTTP call on the route sends the same token, and a plain
    // route's upgrade still the session's own
    expect(await httpToken('/orders/list', cookie)).toBe(token);
    expect(await upgradeToken('/orders/feed', cookie)).toBe(token);
    expect(idp.stats.tokenExchanges).toBe(1);
    expect(await upgradeToken('/live/chat', cookie)).toBe(own);
  });

  it('on an exchange route, after an upstream 401 invalid_token: a new exchanged token on the second handshake, not the session\'s', async () => {
    const { cookie, own } = await session();
    let refusals = 0;
    upstream.refuse(() => (refusals++ === 0 ? { status: 401, headers: { 'WWW-Authenticate': INVALID_TOKEN } } : undefined));
    const token = await upgradeToken('/orders/feed', cookie);
    const refusedToken = bearerOf(upstream.refused[0]?.headers.authorization);
    expect(await introspect(idp, refusedToken)).toMatchObject({ aud: ORDERS });
    expect(token).not.toBe(refusedToken);
    expect(token).not.toBe(own);
    expect(await introspect(idp, token)).toMatchObject({ active: true, aud: ORDERS, sub: 'alice' });
    // the refused token was exchanged again; the session's own token was fine
    expect(idp.stats.tokenExchanges).toBe(2);
    expect(idp.stats.refreshes).toBe(0);
    expect(await httpToken('/orders/list', cookie)).toBe(token);
  });

  it('on a scope route: the downscoped token, the one an HTTP call sends', async () => {
    const { cookie, own } = await session();
    const token = await upgradeToken('/profile/feed', cookie);
    expect(token).not.toBe(own);
    const info = await introspect(idp, token);
    expect(info.active).toBe(true);
    expect(info.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
    expect(await httpToken('/profile/me', cookie)).toBe(token);
  });

  it('an exchange the IdP refuses: 403 exchange_refused, nothing forwarded', async () => {
    const { cookie } = await session();
    const res = await openSocket(`${gw.url}/elsewhere/feed`, { cookie, origin: APP_ORIGIN });
    expect(res.status).toBe(403);
    if (!res.socket) expect(JSON.parse(res.body)).toEqual({ error: 'exchange_refused' });
    expect(upstream.handshakes).toHaveLength(0);
    expect(upstream.refused).toHaveLength(0);
  });
});
