import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis.js';
import { connectRedis } from '../../src/store/redis-connect.js';
import { FreezableStore } from '../helpers/freezable-store.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, expiringSession } from '../helpers/instances.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Instance A takes the refresh lock, reads the session, and freezes past its lease. B
// takes over and rotates the refresh token. When A thaws, its copy of the session holds
// the consumed refresh token: it must neither present it (a strict IdP would revoke the
// whole grant) nor write its stale copy back.

const LEASE_MS = 300;
let redis: TestRedis;
let idp: TestIdp;
let upstream: TestUpstream;
let frozenStore: FreezableStore;
let a: TestGateway;
let b: TestGateway;

beforeAll(async () => {
  redis = await startRedis();
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startUpstream();
  const routes = [{ prefix: '/api', upstream: upstream.url }];
  frozenStore = new FreezableStore(new RedisStore(connectRedis({ url: redis.url, keyPrefix: 'bff:' }), 'bff:'));
  a = await startGateway({ idp, store: redis.url, routes, app: { store: frozenStore, lockLeaseMs: LEASE_MS } });
  b = await startGateway({ idp, store: redis.url, routes, app: { lockLeaseMs: LEASE_MS } });
});

afterAll(async () => {
  frozenStore?.thaw();
  await a?.close();
  await b?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

describe('a stale instance', () => {
  it('thawed after another instance rotated: no reuse of the consumed refresh token, no stale write', async () => {
    const cookie = await expiringSession(idp, b.url);
    const inspect = redis.client();
    const consumed = (await peekSession(inspect, cookie))!.tokens.refreshToken;
    idp.resetStats();

    frozenStore.freezeAfterNextLock();
    const onA = call(`${a.url}/api/me`, cookie);
    await frozenStore.frozen;
    // A's lease runs out while it is frozen
    for (let i = 0; i < 100 && (await inspect.exists('bff:lock:*')) !== 0; i++) await sleep(LEASE_MS / 10);
    while ((await inspect.keys('bff:lock:*')).length > 0) await sleep(LEASE_MS / 10);

    const onB = await call(`${b.url}/api/me`, cookie);
    expect(onB.status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
    const rotated = (await peekSession(inspect, cookie))!.tokens.refreshToken;
    expect(rotated).not.toBe(consumed);

    frozenStore.thaw();
    expect((await onA).status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
    expect(idp.stats.refreshFailures).toBe(0);
    expect(idp.stats.grantRevocations).toBe(0);
    expect((await peekSession(inspect, cookie))!.tokens.refreshToken).toBe(rotated);

    // and the session goes on refreshing normally
    idp.setAccessTokenTtl(30);
    await call(`${b.url}/api/me`, cookie); // refresh → 30 s token
    idp.setAccessTokenTtl(3600);
    expect((await call(`${a.url}/api/me`, cookie)).status).toBe(200);
    expect(idp.stats.grantRevocations).toBe(0);
  });
});
