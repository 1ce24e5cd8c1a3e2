import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TestIdp } from '../helpers/idp.js';
import { call, countStatuses, expectOneRefreshForAStorm, expiringSession, storm, type Instances } from '../helpers/instances.js';
import type { TestUpstream } from '../helpers/upstream.js';
import { startCluster, type Cluster } from '../helpers/stack.js';

// Three gateway instances share one Redis and one strict IdP (rotating, single-use refresh
// tokens: a reused one revokes the grant). However the calls are spread, one session makes
// one refresh per rotation.

const LEASE_MS = 300;

let cluster: Cluster;
let idp: TestIdp;
let upstream: TestUpstream;
let instances: Instances;

beforeAll(async () => {
  cluster = await startCluster(3, { gateway: { app: { lockLeaseMs: LEASE_MS } } });
  ({ idp, upstream, instances } = cluster);
});

afterAll(() => cluster?.close());

beforeEach(() => {
  idp.faults.setTokenEndpointDelay(0);
  idp.faults.setTokenEndpointFailure(null);
});

describe('refresh across instances', () => {
  it('200 concurrent calls on one expired session over 3 instances: one refresh, 200 successes', async () => {
    await expectOneRefreshForAStorm(idp, upstream, instances.gateways);
  });

  it('a token endpoint slower than 3x the lock lease still gives exactly one refresh', async () => {
    const cookie = await expiringSession(idp, instances.gateways[1]!.url);
    idp.resetStats();
    idp.faults.setTokenEndpointDelay(LEASE_MS * 3);
    const results = await storm(instances.gateways, cookie, 60);
    expect(countStatuses(results)).toEqual({ 200: 60 });
    expect(idp.stats.refreshes).toBe(1);
    expect(idp.stats.grantRevocations).toBe(0);
  });

  it('100 sessions expiring together over 3 instances: 100 refreshes, none lost', async () => {
    const cookies: string[] = [];
    for (let i = 0; i < 100; i++) cookies.push(await expiringSession(idp, instances.gateways[i % 3]!.url));
    idp.resetStats();
    const results = await Promise.all(
      cookies.flatMap((cookie, i) =>
        [0, 1, 2].map((g) => call(`${instances.gateways[(i + g) % 3]!.url}/api/data`, cookie)),
      ),
    );
    expect(countStatuses(results)).toEqual({ 200: 300 });
    expect(idp.stats.refreshes).toBe(100);
    expect(idp.stats.grantRevocations).toBe(0);
    // every session still works afterwards, without another refresh
    const again = await Promise.all(cookies.map((c, i) => call(`${instances.gateways[i % 3]!.url}/api/data`, c)));
    expect(countStatuses(again)).toEqual({ 200: 100 });
    expect(idp.stats.refreshes).toBe(100);
  });
});
