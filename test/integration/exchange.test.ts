import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introspect } from '../helpers/dpop-upstream.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, countStatuses, startInstances, storm, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// routes[].exchange (RFC 8693) against oidc-provider with the demo's token-exchange grant:
// the route gets its own audience-restricted token, exchanged once per session and route
// however many calls on however many instances want it, kept in the session, and exchanged
// again once the session's own token was refreshed. A refused exchange is 403.

const ORDERS = 'https://orders.example';

let redis: TestRedis;
let idp: TestIdp;
let upstream: TestUpstream;
let gws: Instances;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600, exchangeAudiences: [ORDERS] });
  upstream = await startUpstream();
  gws = await startInstances(2, {
    idp,
    store: redis.url,
    routes: [
      { prefix: '/api', upstream: upstream.url },
      { prefix: '/orders', upstream: upstream.url, exchange: { audience: ORDERS, scope: 'openid' } },
      { prefix: '/elsewhere', upstream: upstream.url, exchange: { audience: 'https://not-served.example' } },
    ],
  });
});

afterAll(async () => {
  await gws?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

const bearerOf = (auth: string | string[] | undefined) => String(auth ?? '').replace(/^Bearer /, '');

describe('token exchange per route', () => {
  it('exchanges once for a storm of calls over two instances, and sends the audience-restricted token', async () => {
    const { sessionCookie } = await loginThroughGateway(gws.gateways[0]!.url);
    idp.resetStats();
    upstream.seen.length = 0;
    const results = await storm(gws.gateways, sessionCookie, 80, '/orders/list');
    expect(countStatuses(results)).toEqual({ 200: 80 });
    expect(idp.stats.tokenExchanges).toBe(1);
    expect(idp.stats.refreshes).toBe(0);
    const sent = new Set(upstream.seen.map((r) => r.headers.authorization));
    expect(sent.size).toBe(1);
    const token = bearerOf([...sent][0]);
    const session = await peekSession(redis.client(), sessionCookie);
    expect(token).not.toBe(session?.tokens.accessToken);
    const info = (await introspect(idp, token)) as { active: boolean; aud?: unknown; sub?: string };
    expect(info).toMatchObject({ active: true, aud: ORDERS, sub: 'alice' });

    // the plain route still gets the session's own token
    expect((await call(`${gws.gateways[1]!.url}/api/x`, sessionCookie)).status).toBe(200);
    expect(bearerOf(upstream.seen.at(-1)?.headers.authorization)).toBe(session?.tokens.accessToken);
  });

  it('exchanges again after the session\'s own token was refreshed', async () => {
    const { sessionCookie } = await loginThroughGateway(gws.gateways[0]!.url);
    expect((await call(`${gws.gateways[0]!.url}/orders/a`, sessionCookie)).status).toBe(200);
    idp.resetStats();
    // the upstream refuses the session token once: one forced refresh
    let refused = false;
    upstream.respond((req, res) => {
      if (!refused && req.url === '/refuse-me') {
        refused = true;
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    try {
      expect((await call(`${gws.gateways[1]!.url}/api/refuse-me`, sessionCookie)).status).toBe(200);
      expect(idp.stats.refreshes).toBe(1);
      expect((await call(`${gws.gateways[0]!.url}/orders/c`, sessionCookie)).status).toBe(200);
      expect((await call(`${gws.gateways[1]!.url}/orders/d`, sessionCookie)).status).toBe(200);
      expect(idp.stats.tokenExchanges).toBe(1);
    } finally {
      upstream.respond(undefined);
    }
  });

  it('answers 403 exchange_refused when the IdP refuses the exchange', async () => {
    const { sessionCookie } = await loginThroughGateway(gws.gateways[0]!.url);
    upstream.seen.length = 0;
    const res = await call(`${gws.gateways[0]!.url}/elsewhere/x`, sessionCookie);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: 'exchange_refused' });
    expect(upstream.seen).toHaveLength(0);
  });
});
