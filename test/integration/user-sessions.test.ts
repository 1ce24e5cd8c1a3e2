import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionView } from '../../src/session/user-sessions.js';
import type { TestIdp } from '../helpers/idp.js';
import { call, type Instances } from '../helpers/instances.js';
import { loginThroughGateway } from '../helpers/login.js';
import type { TestRedis } from '../helpers/redis.js';
import { startCluster, type Cluster } from '../helpers/stack.js';

// A user's own sessions (GET /auth/sessions, DELETE /auth/sessions/{id}, POST
// /auth/logout?all=true) on three instances sharing one Redis: whatever instance ends a
// session, every instance refuses it on the very next call.

const BOB = { username: 'bob', password: 'builder', claims: { sub: 'bob', name: 'Bob' } };

let cluster: Cluster;
let redis: TestRedis;
let idp: TestIdp;
let instances: Instances;

beforeAll(async () => {
  cluster = await startCluster(3, { idp: { users: [BOB] } });
  ({ redis, idp, instances } = cluster);
});

afterAll(() => cluster?.close());

async function listSessions(url: string, cookie: string, userAgent = 'test-agent'): Promise<SessionView[]> {
  const res = await call(`${url}/auth/sessions`, cookie, { headers: { 'user-agent': userAgent } });
  expect(res.status, res.body).toBe(200);
  return (JSON.parse(res.body) as { sessions: SessionView[] }).sessions;
}

/** `count` sessions of a user, logged in on the instances in turn */
async function sessionsOf(username: string, password: string, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const gw = instances.gateways[i % instances.gateways.length]!;
    cookies.push((await loginThroughGateway(gw.url, { username, password })).sessionCookie);
  }
  return cookies;
}

/** every session on every instance: status of a proxied call */
async function statusEverywhere(cookies: string[]): Promise<number[]> {
  const calls = cookies.flatMap((cookie) => instances.gateways.map((gw) => call(`${gw.url}/api/x`, cookie)));
  return (await Promise.all(calls)).map((r) => r.status);
}

describe('GET /auth/sessions', () => {
  it('lists the user\'s live sessions with an opaque id, the current one marked, and no other user\'s', async () => {
    const [a1, a2] = await sessionsOf('alice', 'wonderland', 2);
    const [b1] = await sessionsOf('bob', 'builder', 1);
    const [gw0, gw1] = instances.gateways;
    // the first call of a session writes its user agent (then at most once a minute)
    await listSessions(gw1!.url, a2!, 'agent-two');
    const list = await listSessions(gw0!.url, a1!, 'agent-one');
    const mine = list.filter((s) => s.current);
    expect(mine).toHaveLength(1);
    expect(list.length).toBeGreaterThanOrEqual(2);
    expect(list.map((s) => s.userAgent)).toEqual(expect.arrayContaining(['agent-one', 'agent-two']));
    for (const s of list) {
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'lastSeenAt', 'userAgent']);
      expect(Date.parse(s.expiresAt)).toBeGreaterThan(Date.now());
      // neither the cookie's value nor the store id
      for (const cookie of [a1!, a2!]) expect(cookie).not.toContain(s.id);
      const keys = await redis.client().keys(`*${s.id}*`);
      expect(keys).toEqual([]);
    }
    const bobs = await listSessions(gw0!.url, b1!);
    expect(bobs).toHaveLength(1);
    expect(bobs.map((s) => s.id)).not.toContain(mine[0]!.id);
  });

  it('needs the CSRF header and a session', async () => {
    const [a] = await sessionsOf('alice', 'wonderland', 1);
    const gw = instances.gateways[0]!;
    expect((await fetch(`${gw.url}/auth/sessions`, { headers: { cookie: a! } })).status).toBe(403);
    const anonymous = await fetch(`${gw.url}/auth/sessions`, { headers: { 'x-csrf': '1' } });
    expect(anonymous.status).toBe(401);
  });
});

describe('DELETE /auth/sessions/{id}', () => {
  it('ends one of the user\'s own sessions on every instance at once, revoking its refresh token', async () => {
    const [a1, a2] = await sessionsOf('bob', 'builder', 2);
    expect(await statusEverywhere([a1!, a2!])).toEqual(Array(6).fill(200));
    const other = (await listSessions(instances.gateways[1]!.url, a2!)).find((s) => s.current)!;
    expect((await listSessions(instances.gateways[2]!.url, a1!)).map((s) => s.id)).toContain(other.id);
    const revocations = idp.stats.revocations;
    const res = await call(`${instances.gateways[2]!.url}/auth/sessions/${other.id}`, a1!, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await statusEverywhere([a2!])).toEqual([401, 401, 401]);
    expect(await statusEverywhere([a1!])).toEqual([200, 200, 200]);
    expect(idp.stats.revocations).toBe(revocations + 1);
    // ended: gone from the list, and a second DELETE is 404
    expect((await listSessions(instances.gateways[0]!.url, a1!)).map((s) => s.id)).not.toContain(other.id);
    expect((await call(`${instances.gateways[0]!.url}/auth/sessions/${other.id}`, a1!, { method: 'DELETE' })).status).toBe(404);
  });

  it('is 404 for another user\'s session or an unknown id, and ends nothing', async () => {
    const [alice] = await sessionsOf('alice', 'wonderland', 1);
    const [bob] = await sessionsOf('bob', 'builder', 1);
    const gw = instances.gateways[0]!;
    const bobs = await listSessions(gw.url, bob!);
    for (const id of [...bobs.map((s) => s.id), 'unknown', 'x'.repeat(24)]) {
      expect((await call(`${gw.url}/auth/sessions/${id}`, alice!, { method: 'DELETE' })).status).toBe(404);
    }
    expect(await statusEverywhere([bob!])).toEqual([200, 200, 200]);
  });
});

describe('POST /auth/logout?all=true', () => {
  it('ends every session of the user on every instance at once, each refresh token revoked; other users keep theirs', async () => {
    const cookies = await sessionsOf('alice', 'wonderland', 3);
    const [bob] = await sessionsOf('bob', 'builder', 1);
    // every instance has every session in its cache
    expect(await statusEverywhere(cookies)).toEqual(Array(9).fill(200));
    const live = (await listSessions(instances.gateways[0]!.url, cookies[0]!)).length;
    expect(live).toBeGreaterThanOrEqual(3);
    const revocations = idp.stats.revocations;
    const res = await call(`${instances.gateways[1]!.url}/auth/logout?all=true`, cookies[0]!, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await statusEverywhere(cookies)).toEqual(Array(9).fill(401));
    expect(idp.stats.revocations - revocations).toBe(live);
    expect(await statusEverywhere([bob!])).toEqual([200, 200, 200]);
    const [again] = await sessionsOf('alice', 'wonderland', 1);
    expect(await listSessions(instances.gateways[2]!.url, again!)).toHaveLength(1);
  });

  it('without all=true ends only the caller\'s session', async () => {
    const [a1, a2] = await sessionsOf('bob', 'builder', 2);
    expect((await call(`${instances.gateways[0]!.url}/auth/logout`, a1!, { method: 'POST' })).status).toBe(200);
    expect(await statusEverywhere([a1!, a2!])).toEqual([401, 401, 401, 200, 200, 200]);
  });
});
