import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import type { TestIdp } from '../helpers/idp.js';
import { call, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import type { TestRedis } from '../helpers/redis.js';
import { startCluster, type Cluster } from '../helpers/stack.js';

// The admin API on the management listener of two instances sharing one Redis: Bearer
// server.adminToken, 404 on the public listener, off without a token, every action logged
// without the token.

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789-abcdef';
const BOB = { username: 'bob', password: 'builder', claims: { sub: 'bob' } };

let cluster: Cluster;
let redis: TestRedis;
let idp: TestIdp;
let instances: Instances;

beforeAll(async () => {
  cluster = await startCluster(2, {
    idp: { users: [BOB] },
    gateway: { config: { server: { management: { host: '127.0.0.1', port: 0 }, adminToken: ADMIN_TOKEN } } },
  });
  ({ redis, idp, instances } = cluster);
});

afterAll(() => cluster?.close());

const admin = (gw: TestGateway, path: string, init: RequestInit = {}, token = ADMIN_TOKEN) =>
  fetch(`${gw.managementUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });

const statusEverywhere = async (cookies: string[]) =>
  (await Promise.all(cookies.flatMap((c) => instances.gateways.map((gw) => call(`${gw.url}/api/x`, c))))).map((r) => r.status);

describe('admin API authentication', () => {
  it('answers 401 {"error":"unauthenticated"} to a wrong, missing or malformed token', async () => {
    const gw = instances.gateways[0]!;
    const attempts: RequestInit[] = [
      {},
      { headers: { authorization: 'Bearer wrong' } },
      { headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } },
      { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` } },
      { headers: { authorization: ADMIN_TOKEN } },
    ];
    for (const path of ['/admin/sessions?sub=alice', '/admin/sessions/stats']) {
      for (const init of attempts) {
        const res = await fetch(`${gw.managementUrl}${path}`, init);
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: 'unauthenticated' });
      }
    }
    const ended = await fetch(`${gw.managementUrl}/admin/sessions?sub=alice`, { method: 'DELETE', headers: { authorization: 'Bearer nope' } });
    expect(ended.status).toBe(401);
  });

  it('is 404 on the public listener, even with the right token', async () => {
    for (const path of ['/admin/sessions?sub=alice', '/admin/sessions/stats']) {
      const res = await fetch(`${instances.gateways[0]!.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(404);
    }
  });

  it('is off (404) without server.adminToken', async () => {
    const gw = await startGateway({ idp, store: redis.url, config: { server: { management: { host: '127.0.0.1', port: 0 } } } });
    try {
      expect((await admin(gw, '/admin/sessions/stats')).status).toBe(404);
      expect((await fetch(`${gw.managementUrl}/metrics`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('asks for sub', async () => {
    const res = await admin(instances.gateways[0]!, '/admin/sessions');
    expect(res.status).toBe(400);
  });
});

describe('admin API sessions', () => {
  it('counts, lists and ends a user\'s sessions on every instance, revoking refresh tokens, and logs who did what', async () => {
    const [gw0, gw1] = instances.gateways as [TestGateway, TestGateway];
    const before = (await (await admin(gw0, '/admin/sessions/stats')).json()) as { sessions: number; users: number };
    const alice = [(await loginThroughGateway(gw0.url)).sessionCookie, (await loginThroughGateway(gw1.url)).sessionCookie];
    const bob = (await loginThroughGateway(gw1.url, { username: 'bob', password: 'builder' })).sessionCookie;
    expect(await statusEverywhere([...alice, bob])).toEqual(Array(6).fill(200));

    const stats = await admin(gw1, '/admin/sessions/stats');
    expect(stats.status).toBe(200);
    expect(await stats.json()).toEqual({ sessions: before.sessions + 3, users: before.users + 2 });

    const list = (await (await admin(gw1, '/admin/sessions?sub=alice')).json()) as { sessions: { id: string; current: boolean }[] };
    expect(list.sessions).toHaveLength(2);
    expect(list.sessions.every((s) => !s.current && typeof s.id === 'string')).toBe(true);

    const revocations = idp.stats.revocations;
    const ended = await admin(gw0, '/admin/sessions?sub=alice', { method: 'DELETE' });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ ended: 2 });
    expect(await statusEverywhere(alice)).toEqual([401, 401, 401, 401]);
    expect(await statusEverywhere([bob])).toEqual([200, 200]);
    expect(idp.stats.revocations).toBe(revocations + 2);
    expect(await (await admin(gw1, '/admin/sessions/stats')).json()).toEqual({ sessions: before.sessions + 1, users: before.users + 1 });
    expect(await (await admin(gw1, '/admin/sessions?sub=alice')).json()).toEqual({ sessions: [] });

    const lines = gw0.logs.join('').split('\n').filter((l) => l.includes('"admin"'));
    const action = lines.map((l) => JSON.parse(l) as { admin?: Record<string, unknown> }).find((l) => l.admin?.action === 'end sessions');
    expect(action?.admin).toMatchObject({ who: 'admin', peer: '127.0.0.1', sub: 'alice', ended: 2 });
    for (const gw of instances.gateways) expect(gw.logs.join('')).not.toContain(ADMIN_TOKEN);
  });
});
