import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { call, expiringSession } from '../helpers/instances.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

// Instances die (SIGKILL) or are stopped (SIGTERM) while they hold a session's refresh
// lock. A dead holder's lock runs out with its lease; a stopped one finishes its calls and
// hands the lock back. Either way the others go on: no hang, no 500.

const LEASE_MS = 5_000; // the CLI's default lease

let redis: TestRedis;
let idp: TestIdp;
let upstream: TestUpstream;
let survivor: TestGateway;
let inspect: Redis;
const processes: GatewayProcess[] = [];

beforeAll(async () => {
  redis = await startRedis({ mustControl: true });
  idp = await startTestIdp({ accessTokenTtl: 3600 });
  upstream = await startUpstream();
  survivor = await startGateway({ idp, store: redis.url, routes: [{ prefix: '/api', upstream: upstream.url }] });
  inspect = redis.client();
});

afterEach(async () => {
  idp.faults.setTokenEndpointDelay(0);
  await Promise.all(processes.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await survivor?.close();
  await upstream?.close();
  await idp?.close();
  await redis?.close();
});

async function gatewayProcess(): Promise<GatewayProcess> {
  const p = await startGatewayProcess({ idp, store: redis.url, routes: [{ prefix: '/api', upstream: upstream.url }] });
  processes.push(p);
  return p;
}

/** Waits (bounded) until some instance holds a refresh lock; returns its key. */
async function heldLock(): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const [key] = await inspect.keys('bff:lock:*');
    if (key) return key;
    await sleep(10);
  }
  throw new Error('no refresh lock was taken');
}

describe('losing an instance mid-refresh', () => {
  it('SIGKILL: the lock outlives nothing but its lease, and the next call ends clearly and quickly', async () => {
    const doomed = await gatewayProcess();
    const cookie = await expiringSession(idp, doomed.url);
    idp.faults.setTokenEndpointDelay(1_000);
    void call(`${doomed.url}/api/me`, cookie);
    const lock = await heldLock();
    doomed.kill('SIGKILL');
    await doomed.exited;

    const ttl = await inspect.pttl(lock);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LEASE_MS);

    // the survivor waits out the lease at most, then refreshes itself; whether the IdP had
    // already rotated the token for the dead instance decides between 200 and a clear 401
    const next = await call(`${survivor.url}/api/me`, cookie);
    expect(next.ms).toBeLessThan(LEASE_MS + 5_000);
    if (next.status !== 200) {
      expect(next.status).toBe(401);
      expect(JSON.parse(next.body)).toEqual({ error: 'session_expired' });
    }
    expect(await inspect.exists(lock)).toBe(0);
  });

  it('SIGTERM: in-flight calls finish, the lock is handed back at once, new connections are refused, exit 0', async () => {
    const stopping = await gatewayProcess();
    const cookie = await expiringSession(idp, stopping.url);
    idp.resetStats();
    idp.faults.setTokenEndpointDelay(1_000);
    const inFlight = call(`${stopping.url}/api/me`, cookie);
    const lock = await heldLock();
    stopping.kill('SIGTERM');
    for (let i = 0; i < 100 && !stopping.output().includes('shutting down'); i++) await sleep(10);

    await expect(fetch(`${stopping.url}/healthz`)).rejects.toThrow();
    expect((await inFlight).status).toBe(200);
    expect(await stopping.exited).toBe(0);
    expect(await inspect.exists(lock)).toBe(0);
    expect(idp.stats.refreshes).toBe(1);

    // the refreshed session serves on the other instance without another refresh
    idp.faults.setTokenEndpointDelay(0);
    expect((await call(`${survivor.url}/api/me`, cookie)).status).toBe(200);
    expect(idp.stats.refreshes).toBe(1);
  });
});
