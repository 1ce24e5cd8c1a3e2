import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, SERVICE_USER, startTestIdp, type TestIdp } from '../helpers/idp.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Two gateway instances on one real Redis share each service token: however many calls
// arrive at once on both, a token source makes ONE call to the token endpoint per renewal,
// and every call gets the same token.

const CALLS = 60;

let redis: TestRedis;
let idp: TestIdp;
let upstream: TestUpstream;
let gateways: TestGateway[] = [];

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp();
  upstream = await startUpstream();
  const client = { tokenEndpoint: `${idp.issuer}/token`, clientId: SERVICE_CLIENT_ID, clientSecret: SERVICE_CLIENT_SECRET };
  const password = { ...client, grant: 'password', username: SERVICE_USER.username, password: SERVICE_USER.password, scope: 'openid' };
  const tokenSources = {
    cold: password,
    expiring: password,
    machine: { ...client, grant: 'client_credentials' },
  };
  const routes = Object.keys(tokenSources).map((name) => ({
    prefix: `/${name}`, upstream: upstream.url, token: name, requireSession: false,
  }));
  for (let i = 0; i < 2; i++) {
    gateways.push(await startGateway({ idp, store: redis.url, routes, config: { tokenSources } }));
  }
});

afterAll(async () => {
  await Promise.all(gateways.map((gw) => gw.close()));
  gateways = [];
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

beforeEach(() => idp.resetStats());

/** `count` concurrent calls spread over both instances; the bearers the upstream saw for them. */
async function storm(source: string, count = CALLS): Promise<Set<string | undefined>> {
  const seenBefore = upstream.seen.length;
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) => fetch(`${gateways[i % gateways.length]!.url}/${source}/data`)),
  );
  expect(responses.map((r) => r.status)).toEqual(Array(count).fill(200));
  await Promise.all(responses.map((r) => r.body?.cancel()));
  return new Set(upstream.seen.slice(seenBefore).map((s) => s.headers.authorization));
}

describe('a token source shared by two instances', () => {
  it('makes one password grant for concurrent first calls on both', async () => {
    idp.setAccessTokenTtl(3600);
    const bearers = await storm('cold');
    expect(idp.stats.passwordGrants).toBe(1);
    expect(idp.stats.tokenRequests).toBe(1);
    expect(bearers.size).toBe(1);
  });

  it('makes one refresh for concurrent calls on both when the held token is about to expire', async () => {
    idp.setAccessTokenTtl(30); // within refreshBefore (60 s by default): due at once
    const [expiring] = await storm('expiring', 1);
    idp.setAccessTokenTtl(3600);
    idp.resetStats();

    const bearers = await storm('expiring');
    expect(idp.stats.refreshes).toBe(1);
    expect(idp.stats.tokenRequests).toBe(1);
    expect(idp.stats.refreshFailures).toBe(0);
    expect(idp.stats.grantRevocations).toBe(0);
    expect(bearers.size).toBe(1);
    expect(bearers.has(expiring)).toBe(false);
  });

  it('makes one client_credentials grant for concurrent first calls on both', async () => {
    idp.setAccessTokenTtl(3600);
    const bearers = await storm('machine');
    expect(idp.stats.clientCredentials).toBe(1);
    expect(idp.stats.tokenRequests).toBe(1);
    expect(bearers.size).toBe(1);
  });
});
