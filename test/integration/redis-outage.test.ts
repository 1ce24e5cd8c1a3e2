import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestIdp } from '../helpers/idp.js';
import { call, countStatuses, expiringSession, type CallResult, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import type { TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';
import { startCluster, type Cluster } from '../helpers/stack.js';

// Redis (with persistence) stops under load and comes back. While it is away every call is
// a fast 503; once it is back every call succeeds again within seconds, and every session
// made before the outage is still there.

let cluster: Cluster;
let redis: TestRedis;
let idp: TestIdp;
let instances: Instances;

beforeAll(async () => {
  cluster = await startCluster(3, { redis: { persist: true, mustControl: true }, idp: { accessTokenTtl: 3600 } });
  ({ redis, idp, instances } = cluster);
});

afterAll(() => cluster?.close());

describe('Redis outage under load', () => {
  it('503s while it is down, none slower than 2 s; all calls good again within 5 s; no session lost', async () => {
    const cookies: string[] = [];
    for (let i = 0; i < 12; i++) cookies.push((await loginThroughGateway(instances.gateways[i % 3]!.url)).sessionCookie);
    const urls = instances.gateways.map((g) => `${g.url}/api/me`);

    // six callers keep going through the outage
    const results: CallResult[] = [];
    let running = true;
    const load = Array.from({ length: 6 }, async (_, w) => {
      for (let n = 0; running; n++) results.push(await call(urls[(w + n) % 3]!, cookies[(w + n) % cookies.length]!));
    });

    await sleep(300);
    await redis.stop();
    const outageFrom = results.length;
    await sleep(1_500);
    const during = results.slice(outageFrom);
    await redis.start();
    const backAt = Date.now();

    // every caller gets a 200 again within 5 s of the restart
    let recovered = false;
    while (!recovered && Date.now() - backAt < 5_000) {
      const probe = await Promise.all(urls.map((url, i) => call(url, cookies[i]!)));
      recovered = probe.every((r) => r.status === 200);
      if (!recovered) await sleep(100);
    }
    running = false;
    await Promise.all(load);

    expect(recovered).toBe(true);
    expect(during.length).toBeGreaterThan(0);
    expect(Object.keys(countStatuses(during)).map(Number).sort()).toEqual(expect.arrayContaining([503]));
    for (const r of results) {
      expect([200, 503]).toContain(r.status);
      expect(r.ms).toBeLessThan(2_000);
      if (r.status === 503) expect(JSON.parse(r.body)).toEqual({ error: 'session_store_unavailable' });
    }

    // persisted: every session made before the outage works on every instance
    const after = await Promise.all(cookies.flatMap((c) => urls.map((url) => call(url, c))));
    expect(countStatuses(after)).toEqual({ 200: cookies.length * 3 });
  });

  it('a refresh that meets the outage: the caller gets a fast 503, the new tokens land once Redis is back', async () => {
    const [a, b, c] = instances.gateways.map((g) => `${g.url}/api/me`);
    // after the previous test's restart the instances spend no refresh token for 1 s
    await sleep(1_100);
    const cookie = await expiringSession(idp, instances.gateways[0]!.url);
    const spent = (await peekSession(redis.client(), cookie))?.tokens.refreshToken;
    expect(spent).toBeDefined();
    idp.resetStats();
    // the token endpoint answers after Redis is gone, with the refresh token already spent
    idp.faults.setTokenEndpointDelay(1_500);
    try {
      const refreshing = call(a!, cookie);
      await sleep(300);
      await redis.stop();
      const refused = await refreshing;
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toEqual({ error: 'session_store_unavailable' });
      expect(refused.ms).toBeLessThan(2_000);
      expect(idp.stats.refreshes).toBe(1);
      // down for longer than the lock lease (5 s): the lock is gone when it comes back
      await sleep(5_500);
      await redis.start();
    } finally {
      idp.faults.setTokenEndpointDelay(0);
    }

    // Every instance is asked at once. The holder writes the new tokens as soon as it is
    // back; the others spend no refresh token for a second after their reconnect, so none
    // presents the spent one before that write lands.
    const backAt = Date.now();
    let statuses: Record<number, number> = {};
    while (Date.now() - backAt < 5_000) {
      statuses = countStatuses(await Promise.all([a!, b!, c!].map((url) => call(url, cookie))));
      if (statuses[200] === 3) break;
      await sleep(20);
    }
    expect(statuses).toEqual({ 200: 3 });
    const written = await peekSession(redis.client(), cookie);
    expect(written?.tokens.refreshToken).not.toBe(spent);
    // one refresh, written late: no second use of the spent refresh token, no revoked grant
    expect(idp.stats.refreshes).toBe(1);
    expect(idp.stats.refreshFailuresByError).toEqual({});
    expect(idp.stats.grantRevocations).toBe(0);
  });
});
