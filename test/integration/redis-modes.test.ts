import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.js';
import { connectRedis } from '../../src/store/redis-connect.js';
import { storeIdOf } from '../../src/session/sessions.js';
import type { TestGatewayOptions } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, countStatuses, expectOneRefreshForAStorm, startInstances, type CallResult, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startCluster, type TestCluster } from '../helpers/redis-cluster.js';
import { parseInfo, waitFor } from '../helpers/redis-process.js';
import { startSentinel, type TestSentinel } from '../helpers/redis-sentinel.js';
import { peekSession, sessionIdOf } from '../helpers/session-peek.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// The same gateway on Redis Cluster (three masters) and on Redis Sentinel (master, replica,
// three sentinels), three instances sharing the store and one strict IdP (rotating,
// single-use refresh tokens).

let idp: TestIdp;
let upstream: TestUpstream;

beforeAll(async () => {
  // tokens live an hour: no call refreshes unless a test makes an expiring session
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startUpstream();
});

afterAll(async () => {
  try {
    await upstream?.close();
  } finally {
    await idp?.close();
  }
});

/** Three gateways on `store` (the YAML store section: the placeholder url is dropped). */
function startOn(store: Record<string, unknown>): Promise<Instances> {
  const opts: TestGatewayOptions = {
    idp,
    store: 'memory',
    routes: [{ prefix: '/api', upstream: upstream.url }],
    // undefined keys are left out of the generated YAML, so this replaces url with `store`
    config: { store: { url: undefined, ...store } },
  };
  return startInstances(3, opts);
}


describe('Redis Cluster', () => {
  let cluster: TestCluster;
  let instances: Instances;

  beforeAll(async () => {
    cluster = await startCluster();
    instances = await startOn({ cluster: { nodes: cluster.nodes } });
  });

  afterAll(async () => {
    try {
      await instances?.close();
    } finally {
      await cluster?.close();
    }
  });

  it('200 concurrent calls on one expired session over 3 instances: one refresh, 200 successes', async () => {
    await expectOneRefreshForAStorm(idp, upstream, instances.gateways);
  });

  it('sessions spread over slots and nodes, and every instance serves every session', async () => {
    const cookies: string[] = [];
    for (let i = 0; i < 24; i++) cookies.push((await loginThroughGateway(instances.gateways[i % 3]!.url)).sessionCookie);

    const keys = new Set(cookies.map((c) => `bff:s:{${storeIdOf(sessionIdOf(c))}}`));
    const holders = await Promise.all(
      cluster.clients().map(async (node) => {
        const held = (await node.keys('bff:s:*')).filter((k) => keys.has(k));
        return Promise.all(held.map(async (k) => Number(await node.call('CLUSTER', 'KEYSLOT', k))));
      }),
    );
    // every session is on exactly one node; random ids hash to many slots on more than one node
    expect(holders.flat()).toHaveLength(24);
    expect(holders.filter((slots) => slots.length > 0).length).toBeGreaterThanOrEqual(2);
    expect(new Set(holders.flat()).size).toBeGreaterThanOrEqual(20);

    const results = await Promise.all(
      cookies.flatMap((cookie) => instances.gateways.map((g) => call(`${g.url}/api/data`, cookie))),
    );
    expect(countStatuses(results)).toEqual({ 200: 72 });
  });

  it('runs every store operation on the cluster: each script keeps to one hash-tagged slot', async () => {
    const prefix = 'direct:';
    const store = new RedisStore(connectRedis({ cluster: { nodes: cluster.nodes }, keyPrefix: prefix }), prefix);
    try {
      await waitFor('the cluster client', 5_000, async () => (await store.ping(), true));
      // a cross-slot script or transaction would fail with CROSSSLOT here
      for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
        const record = { version: 1, data: Buffer.from(id), absoluteExpiresAt: Date.now() + 60_000 };
        await store.createSession(id, record, 60_000);
        expect((await store.readSession(id, 60_000))?.version).toBe(1);
        expect(await store.replaceSession(id, 1, { ...record, version: 2 })).toBe(true);
        expect(await store.replaceSession(id, 1, { ...record, version: 3 })).toBe(false);
        expect(await store.acquireLock(id, 'me', 5_000)).toBe(true);
        expect(await store.renewLock(id, 'me', 5_000)).toBe(true);
        await store.releaseLock(id, 'me');
        expect(await store.acquireLock(id, 'other', 5_000)).toBe(true);
        expect(await store.claimOnce(`once-${id}`, 5_000)).toBe(true);
        expect(await store.takeOnce(`once-${id}`)).not.toBeNull();
        expect(await store.takeOnce(`once-${id}`)).toBeNull();
        await store.addToIndex(id, `session-of-${id}`, 5_000);
        expect(await store.listIndex(id)).toEqual([`session-of-${id}`]);
        await store.dropFromIndex(id, [`session-of-${id}`]);
        expect(await store.listIndex(id)).toEqual([]);
        expect(await store.claimOnce(`jti-${id}`, 5_000)).toBe(true);
        expect(await store.claimOnce(`jti-${id}`, 5_000)).toBe(false);
        await store.deleteSession(id);
        expect(await store.readSession(id, 60_000)).toBeNull();
      }
    } finally {
      await store.close();
    }
  });

  // last in this block: it takes the cluster down
  it('a lost master (CLUSTERDOWN, refused connections) gives 503 session_store_unavailable, each under 2 s', async () => {
    const cookies: string[] = [];
    for (let i = 0; i < 6; i++) cookies.push((await loginThroughGateway(instances.gateways[i % 3]!.url)).sessionCookie);
    await cluster.killNode(0);
    const survivor = cluster.clients()[1]!;
    await waitFor('the cluster to notice (cluster_state:fail)', 10_000, async () =>
      parseInfo(String(await survivor.call('CLUSTER', 'INFO')))['cluster_state'] === 'fail' ? true : undefined,
    );
    const results = await Promise.all(
      cookies.flatMap((cookie) => instances.gateways.map((g) => call(`${g.url}/api/data`, cookie))),
    );
    expect(countStatuses(results)).toEqual({ 503: 18 });
    for (const r of results) {
      expect(JSON.parse(r.body)).toEqual({ error: 'session_store_unavailable' });
      expect(r.ms).toBeLessThan(2_000);
    }
  });
});

// A failover test waits for a replica in sync, the failover itself (tried twice), and the
// recovery: with one replica, consecutive failovers wait for Sentinel to re-attach the
// demoted primary (about 10 s each).
const FAILOVER_TEST_MS = 90_000;

describe('Redis Sentinel', () => {
  let sentinel: TestSentinel;
  let instances: Instances;

  beforeAll(async () => {
    sentinel = await startSentinel({ sentinels: 3 });
    instances = await startOn({ sentinel: { name: sentinel.name, nodes: sentinel.nodes } });
  });

  afterAll(async () => {
    try {
      await instances?.close();
    } finally {
      await sentinel?.close();
    }
  });

  it('200 concurrent calls on one expired session over 3 instances: one refresh, 200 successes', async () => {
    await expectOneRefreshForAStorm(idp, upstream, instances.gateways);
  });

  it('a forced failover under load gives only 200s and 503s, then recovers and keeps the session', async () => {
    const { gateways } = instances;
    const { sessionCookie: cookie } = await loginThroughGateway(gateways[0]!.url);
    await sentinel.syncReplica(); // the session is on the replica before it is promoted

    const results: CallResult[] = [];
    let stop = false;
    const load = gateways.flatMap((g) =>
      [0, 1].map(async () => {
        while (!stop) results.push(await call(`${g.url}/api/data`, cookie));
      }),
    );
    let recoveredAfterMs: number;
    try {
      const before = results.length;
      await sentinel.failover();
      expect(results.length).toBeGreaterThan(before); // the load really ran through the failover
      const failedOverAt = Date.now();
      // recovered: one call on every instance succeeds (while the load goes on)
      await waitFor('every instance to serve the session again', 20_000, async () => {
        const round = await Promise.all(gateways.map((g) => call(`${g.url}/api/data`, cookie)));
        return round.every((r) => r.status === 200) ? true : undefined;
      });
      recoveredAfterMs = Date.now() - failedOverAt;
    } finally {
      stop = true;
      await Promise.all(load);
    }

    expect(recoveredAfterMs).toBeLessThan(20_000);
    for (const r of results) {
      expect(r.body).not.toMatch(/READONLY/i);
      expect([200, 503]).toContain(r.status);
      if (r.status === 503) {
        expect(['session_store_unavailable', 'token_service_unavailable']).toContain(JSON.parse(r.body).error);
      }
    }
    // the session made before the failover is on the new master, and served everywhere
    const master = await sentinel.masterClient();
    expect(await peekSession(master, cookie)).not.toBeNull();
    const after = await Promise.all(gateways.map((g) => call(`${g.url}/api/data`, cookie)));
    expect(countStatuses(after)).toEqual({ 200: 3 });
    // every instance now writes to the new master, not to the demoted one (which keeps
    // answering as a master until Sentinel reconfigures it, and then drops those writes)
    for (const g of gateways) {
      expect(await peekSession(master, (await loginThroughGateway(g.url)).sessionCookie)).not.toBeNull();
    }
  }, FAILOVER_TEST_MS);

  it('a failover while a session keeps refreshing loses no session and never reuses a refresh token', async () => {
    const { gateways } = instances;
    // 30 s tokens inside the 60 s refreshBefore: every call on this session refreshes
    idp.setAccessTokenTtl(30);
    const { sessionCookie: cookie } = await loginThroughGateway(gateways[0]!.url);
    await sentinel.syncReplica();
    idp.resetStats();

    const results: CallResult[] = [];
    let stop = false;
    const load = gateways.map(async (g) => {
      while (!stop) results.push(await call(`${g.url}/api/data`, cookie));
    });
    let recovered: unknown;
    try {
      await sentinel.failover();
      // With one replica this takes about 10 s: Sentinel re-attaches the demoted primary as
      // the new primary's replica ~8 s after the switch; until then every refresh waits for
      // replica acknowledgements that cannot come, and some calls get 503.
      recovered = await waitFor('refreshes to go on after the failover', 30_000, async () => {
        const before = idp.stats.refreshes;
        const round = await Promise.all(gateways.map((g) => call(`${g.url}/api/data`, cookie)));
        return round.every((r) => r.status === 200) && idp.stats.refreshes > before ? true : undefined;
      }).catch((e: unknown) => e);
    } finally {
      stop = true;
      await Promise.all(load);
      idp.setAccessTokenTtl(3600);
    }

    // the IdP's view first: a lost session shows here as a refused (reused) refresh token
    expect(idp.stats.refreshFailuresByError).toEqual({});
    expect(idp.stats.grantRevocations).toBe(0);
    expect(recovered).toBe(true);
    expect(idp.stats.refreshes).toBeGreaterThan(1);
    for (const r of results) {
      expect([200, 503]).toContain(r.status);
      expect(r.body).not.toMatch(/READONLY/i);
    }
  }, FAILOVER_TEST_MS);
});
