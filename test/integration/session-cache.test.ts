import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, startInstances, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Each instance keeps a decoded session for a moment (a burst of calls reads the store once),
// and forgets it the moment any instance writes or deletes it: a logout or a rotation on one
// instance holds on every other from the next call on.

let redis: TestRedis;
let client: Redis;
let idp: TestIdp;
let upstream: TestUpstream;
let instances: Instances;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
  // tokens that stay fresh: a call refreshes only when the test makes it
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startUpstream();
  // a call carrying x-reject is refused by the upstream as an invalid token
  upstream.respond((req, res) => {
    if (req.headers['x-reject']) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
  });
  instances = await startInstances(2, { idp, store: redis.url, routes: [{ prefix: '/api', upstream: upstream.url }] });
});

afterAll(async () => {
  client?.disconnect();
  await instances?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

const sessionReads = async () => {
  const stats = await client.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
};

describe('the session cache', () => {
  it('serves a burst of calls on one session with a few store reads', async () => {
    const [a] = instances.gateways;
    const { sessionCookie } = await loginThroughGateway(a!.url);
    const before = await sessionReads();
    for (let i = 0; i < 20; i++) expect((await call(`${a!.url}/api/burst`, sessionCookie)).status).toBe(200);
    // one read per second of the burst at most (each script call is one read here)
    expect((await sessionReads()) - before).toBeLessThan(10);
  });

  it('a logout on one instance ends the session on the others from the next call on', async () => {
    const [a, b] = instances.gateways;
    const { sessionCookie } = await loginThroughGateway(a!.url);
    expect((await call(`${b!.url}/api/x`, sessionCookie)).status).toBe(200);
    expect((await call(`${b!.url}/api/x`, sessionCookie)).status).toBe(200); // from B's cache
    const logout = await fetch(`${a!.url}/auth/logout`, { method: 'POST', headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(logout.status).toBe(200);
    expect((await call(`${b!.url}/api/x`, sessionCookie)).status).toBe(401);
  });

  it('a rotation on one instance: the others forward the new access token from the next call on', async () => {
    const [a, b] = instances.gateways;
    const { sessionCookie } = await loginThroughGateway(a!.url);
    const first = await call(`${b!.url}/api/x`, sessionCookie);
    const oldToken = (JSON.parse(first.body) as { authorization: string }).authorization;
    expect((await call(`${b!.url}/api/x`, sessionCookie)).status).toBe(200); // from B's cache
    const refreshes = idp.stats.refreshes;
    // A's upstream refuses the token: A refreshes (and the replay is refused too)
    expect((await call(`${a!.url}/api/x`, sessionCookie, { headers: { 'x-reject': '1' } })).status).toBe(401);
    expect(idp.stats.refreshes).toBe(refreshes + 1);
    const stored = await peekSession(client, sessionCookie);
    expect(`Bearer ${stored!.tokens.accessToken}`).not.toBe(oldToken);
    const after = await call(`${b!.url}/api/x`, sessionCookie);
    expect((JSON.parse(after.body) as { authorization: string }).authorization).toBe(`Bearer ${stored!.tokens.accessToken}`);
  });
});
