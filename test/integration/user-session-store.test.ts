import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionCipher } from '../../src/session/cipher.js';
import { Sessions } from '../../src/session/sessions.js';
import { TOUCH_MS, UserSessions } from '../../src/session/user-sessions.js';
import { MemoryStore } from '../../src/store/memory.js';
import { connectRedis } from '../../src/store/redis-connect.js';
import { RedisStore } from '../../src/store/redis.js';
import type { SessionStore, UserSessionRecord } from '../../src/store/store.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

// A user's session entries, the same on both stores: the cap decided atomically (concurrent
// adds never leave more than it), lastSeenAt written at most once per interval, the counts.

let redis: TestRedis;
let redisStore: RedisStore;
const memoryStore = new MemoryStore();
const prefix = `us${Date.now()}:`;

beforeAll(async () => {
  redis = await startRedis();
  redisStore = new RedisStore(connectRedis({ url: redis.url, keyPrefix: prefix }), prefix);
  for (let i = 0; i < 100; i++) {
    try {
      await redisStore.ping();
      break;
    } catch {
      await sleep(20);
    }
  }
});

afterAll(async () => {
  await redisStore?.close();
  await memoryStore.close();
  await redis?.close();
});

const stores = (): [string, () => SessionStore][] => [['memory', () => memoryStore], ['redis', () => redisStore]];
let n = 0;
const record = (createdAt: number, over: Partial<UserSessionRecord> = {}): UserSessionRecord => ({
  storeId: `id-${++n}`, createdAt, lastSeenAt: createdAt, liveUntil: Date.now() + 60_000, hasUserAgent: false, meta: Buffer.from('m'), ...over,
});
/** a session key for the record, so that the counts see it live */
const withSession = async (store: SessionStore, r: UserSessionRecord) =>
  store.createSession(r.storeId, { version: 1, data: Buffer.from('x'), absoluteExpiresAt: Date.now() + 60_000 }, 60_000);

describe.each(stores())('user session entries (%s store)', (_name, storeOf) => {
  it('ends the oldest beyond the cap, and concurrent adds never leave more than the cap', async () => {
    const store = storeOf();
    const users = store.users!;
    const user = `cap-${n}`;
    const base = Date.now();
    const first = record(base);
    expect(await users.addUserSession(user, first, 2)).toEqual([]);
    expect(await users.addUserSession(user, record(base + 1), 2)).toEqual([]);
    expect(await users.addUserSession(user, record(base + 2), 2)).toEqual([first.storeId]);

    const racing = Array.from({ length: 20 }, (_, i) => record(base + 10 + i));
    const evicted = (await Promise.all(racing.map((r) => users.addUserSession(user, r, 3)))).flat();
    const left = await users.listUserSessions(user);
    expect(left).toHaveLength(3);
    // every entry is either left or was handed to exactly one caller to end
    expect(new Set(evicted).size).toBe(evicted.length);
    expect(evicted.length + left.length).toBe(22);
  });

  it('writes lastSeenAt only once per interval, or when a user agent arrives', async () => {
    const store = storeOf();
    const users = store.users!;
    const user = `touch-${n}`;
    const t = Date.now();
    const r = record(t);
    await users.addUserSession(user, r, 0);
    expect(await users.touchUserSession(user, { ...r, lastSeenAt: t + 1_000 }, TOUCH_MS)).toBe(t);
    expect(await users.touchUserSession(user, { ...r, lastSeenAt: t + 2_000, hasUserAgent: true, meta: Buffer.from('ua') }, TOUCH_MS)).toBe(t + 2_000);
    expect(await users.touchUserSession(user, { ...r, lastSeenAt: t + 3_000, hasUserAgent: true }, TOUCH_MS)).toBe(t + 2_000);
    expect(await users.touchUserSession(user, { ...r, lastSeenAt: t + 2_000 + TOUCH_MS, hasUserAgent: true }, TOUCH_MS)).toBe(t + 2_000 + TOUCH_MS);
    const [stored] = await users.listUserSessions(user);
    expect(stored?.lastSeenAt).toBe(t + 2_000 + TOUCH_MS);
    expect(stored?.meta.toString()).toBe('m');
    await users.dropUserSessions(user, [r.storeId]);
    expect(await users.touchUserSession(user, { ...r, lastSeenAt: t + 10 * TOUCH_MS }, TOUCH_MS)).toBeNull();
  });

  it('counts live sessions and users as they come and go', async () => {
    const store = storeOf();
    const users = store.users!;
    const before = await users.sessionStats();
    const a = [record(Date.now()), record(Date.now())];
    const b = record(Date.now());
    for (const r of a) await withSession(store, r);
    await withSession(store, b);
    for (const r of a) await users.addUserSession(`count-a-${n}`, r, 0);
    await users.addUserSession(`count-b-${n}`, b, 0);
    expect(await users.sessionStats()).toEqual({ sessions: before.sessions + 3, users: before.users + 2 });
    await store.deleteSession(a[0]!.storeId);
    expect((await users.sessionStats()).sessions).toBe(before.sessions + 2);
    await store.deleteSession(b.storeId);
    await users.dropUserSessions(`count-b-${n}`, [b.storeId]);
    expect(await users.sessionStats()).toEqual({ sessions: before.sessions + 1, users: before.users + 1 });
  });

  it('a session seen on every call is written at most once a minute', async () => {
    const store = storeOf();
    const key = Buffer.alloc(32, 3);
    const cipher = new SessionCipher([key]);
    const config = { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000, maxPerUser: 0 };
    const sessions = new Sessions(store, cipher, config);
    const userSessions = new UserSessions(store, sessions, cipher, key, config, async () => {}, () => {});
    sessions.registry = userSessions;
    const { session } = await sessions.create({ sub: `seen-${n}`, claims: {}, tokens: { accessToken: 'a' }, createdAt: Date.now() });
    const users = store.users!;
    const touch = users.touchUserSession.bind(users);
    let writes = 0;
    users.touchUserSession = async (...args) => {
      writes += 1;
      return touch(...args);
    };
    try {
      for (let i = 0; i < 100; i++) userSessions.seen(session, 'agent');
      await sleep(50);
      expect(writes).toBe(1);
      const [view] = await userSessions.list(`seen-${n}`, session.storeId);
      expect(view).toMatchObject({ current: true, userAgent: 'agent' });
    } finally {
      users.touchUserSession = touch;
    }
  });
});
