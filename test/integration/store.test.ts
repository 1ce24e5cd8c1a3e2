import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { RedisStore } from '../../src/store/redis.js';
import { connectRedis } from '../../src/store/redis-connect.js';
import type { SessionStore } from '../../src/store/store.js';
import { SessionCipher } from '../../src/session/cipher.js';
import { Sessions } from '../../src/session/sessions.js';
import type { SessionData } from '../../src/session/session.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

// One contract, two stores: what the memory store does, Redis does the same.

let redis: TestRedis;
let redisStore: RedisStore;
const memoryStore = new MemoryStore();

beforeAll(async () => {
  redis = await startRedis();
  redisStore = new RedisStore(connectRedis({ url: redis.url, keyPrefix: `t${Date.now()}:` }), `t${Date.now()}:`);
  await waitReady(redisStore);
});

afterAll(async () => {
  await redisStore?.close();
  await memoryStore.close();
  await redis?.close();
});

async function waitReady(store: SessionStore): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      return await store.ping();
    } catch {
      await sleep(20);
    }
  }
}

const data = (accessToken: string): SessionData => ({
  sub: 'alice',
  claims: {},
  tokens: { accessToken, refreshToken: `rt-${accessToken}` },
  createdAt: Date.now(),
});
const record = (version: number, absoluteExpiresAt = Date.now() + 60_000) => ({ version, data: Buffer.from([0, 1, 2, version]), absoluteExpiresAt });
let n = 0;
const id = () => `id-${process.pid}-${++n}`;

describe.each([
  ['memory', () => memoryStore],
  ['redis', () => redisStore],
])('%s store', (_name, store) => {
  it('writes and reads a session with its bytes intact', async () => {
    const key = id();
    await store().createSession(key, record(1), 60_000);
    const read = await store().readSession(key, 60_000);
    expect(read?.version).toBe(1);
    expect([...(read?.data ?? [])]).toEqual([0, 1, 2, 1]);
  });

  it('creates a session only where there is none', async () => {
    const key = id();
    expect(await store().createSession(key, record(1), 60_000)).toBe(true);
    expect(await store().createSession(key, record(7), 60_000)).toBe(false);
    expect((await store().readSession(key, 60_000))?.version).toBe(1);
  });

  it('compare-and-set: a writer holding an old version never overwrites a newer one', async () => {
    const key = id();
    await store().createSession(key, record(1), 60_000);
    expect(await store().replaceSession(key, 1, record(2))).toBe(true);
    expect(await store().replaceSession(key, 1, record(3))).toBe(false); // stale writer
    expect((await store().readSession(key, 60_000))?.version).toBe(2);
    await store().deleteSession(key);
    expect(await store().replaceSession(key, 2, record(3))).toBe(false); // gone stays gone
    expect(await store().readSession(key, 60_000)).toBeNull();
  });

  it('enforces the idle timeout and the absolute timeout on read', async () => {
    const idle = id();
    await store().createSession(idle, record(1), 150);
    await sleep(250);
    expect(await store().readSession(idle, 150)).toBeNull();

    const absolute = id();
    await store().createSession(absolute, record(1, Date.now() + 1_000), 60_000);
    expect(await store().readSession(absolute, 60_000)).not.toBeNull();
    await sleep(1_100);
    expect(await store().readSession(absolute, 60_000)).toBeNull();
  });

  it('slides the idle lifetime on each read', async () => {
    const key = id();
    // each read lands before the idle lifetime (2 s) ends; together they outlast it
    await store().createSession(key, record(1), 2_000);
    for (let i = 0; i < 3; i++) {
      await sleep(800);
      expect(await store().readSession(key, 2_000)).not.toBeNull();
    }
  });

  it('frees a claim exactly once, after which it can be claimed again', async () => {
    const key = id();
    expect(await store().claimOnce(key, 60_000)).toBe(true);
    const takes = await Promise.all([store().takeOnce(key), store().takeOnce(key), store().takeOnce(key)]);
    expect(takes.filter((t) => t !== null)).toHaveLength(1);
    expect(await store().claimOnce(key, 60_000)).toBe(true);
  });

  it('grants a lock to one owner at a time and releases only for its owner', async () => {
    const key = id();
    expect(await store().acquireLock(key, 'a', 5_000)).toBe(true);
    expect(await store().acquireLock(key, 'b', 5_000)).toBe(false);
    await store().releaseLock(key, 'b');
    expect(await store().acquireLock(key, 'b', 5_000)).toBe(false);
    expect(await store().renewLock(key, 'b', 5_000)).toBe(false);
    expect(await store().renewLock(key, 'a', 5_000)).toBe(true);
    expect(await store().confirmLock(key, 'a', 5_000)).toBe(true);
    expect(await store().confirmLock(key, 'b', 5_000)).toBe(false);
    await store().releaseLock(key, 'a');
    expect(await store().confirmLock(key, 'a', 5_000)).toBe(false);
    expect(await store().acquireLock(key, 'b', 5_000)).toBe(true);
  });

  it('lets a lease run out when its holder stops renewing', async () => {
    const key = id();
    expect(await store().acquireLock(key, 'dead', 100)).toBe(true);
    await sleep(200);
    expect(await store().acquireLock(key, 'next', 5_000)).toBe(true);
  });

  it('indexes sessions, lists them until they are dropped', async () => {
    const index = id();
    await store().addToIndex(index, 's1', 60_000);
    await store().addToIndex(index, 's2', 60_000);
    await store().addToIndex(index, 's1', 60_000);
    expect((await store().listIndex(index)).sort()).toEqual(['s1', 's2']);
    expect((await store().listIndex(index)).sort()).toEqual(['s1', 's2']);
    await store().dropFromIndex(index, ['s1']);
    expect(await store().listIndex(index)).toEqual(['s2']);
    await store().dropFromIndex(index, ['s2']);
    await store().dropFromIndex(index, []);
    expect(await store().listIndex(index)).toEqual([]);
  });

  it('lists each member for its own ttl, so an index never outgrows its live sessions', async () => {
    const index = id();
    await store().addToIndex(index, 's1', 5_000);
    await store().addToIndex(index, 's2', 100);
    await sleep(200);
    expect(await store().listIndex(index)).toEqual(['s1']);
    await store().addToIndex(index, 's3', 100);
    await sleep(200);
    expect(await store().listIndex(index)).toEqual(['s1']);
  });

  it('claims an id once (replay protection)', async () => {
    const key = id();
    const claims = await Promise.all([store().claimOnce(key, 60_000), store().claimOnce(key, 60_000)]);
    expect(claims.sort()).toEqual([false, true]);
  });

  it('ends every session of a sid, or of a sub (Sessions on top)', async () => {
    const sessions = new Sessions(store(), new SessionCipher([Buffer.alloc(32, 1)]), { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 });
    const sub = `user-${id()}`;
    const a = await sessions.create({ ...data('a'), sub, sid: `${sub}-idp-1` });
    const b = await sessions.create({ ...data('b'), sub, sid: `${sub}-idp-2` });
    const c = await sessions.create({ ...data('c'), sub });
    expect(await sessions.endAllOf({ sid: `${sub}-idp-1`, sub })).toBe(1);
    expect(await sessions.load(a.sessionId)).toBeNull();
    expect(await sessions.load(b.sessionId)).not.toBeNull();
    expect(await sessions.endAllOf({ sub })).toBe(3); // b and c, and a's stale entry
    expect(await sessions.load(b.sessionId)).toBeNull();
    expect(await sessions.load(c.sessionId)).toBeNull();
  });

  it('keeps sessions encrypted and bound to their id (Sessions on top)', async () => {
    const cipher = new SessionCipher([Buffer.alloc(32, 1)]);
    const sessions = new Sessions(store(), cipher, { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 });
    const { sessionId, session } = await sessions.create(data('at-1'));
    const loaded = await sessions.load(sessionId);
    expect(loaded?.data.tokens.accessToken).toBe('at-1');
    // a stale writer: two writers read version 1; the second write must fail
    const first = await sessions.replace(session, data('at-2'));
    const second = await sessions.replace(session, data('at-stale'));
    expect(first?.version).toBe(2);
    expect(second).toBeNull();
    expect((await sessions.load(sessionId))?.data.tokens.accessToken).toBe('at-2');
    // a key ring without the key cannot read it
    const other = new Sessions(store(), new SessionCipher([Buffer.alloc(32, 2)]), { idleTimeoutMs: 60_000, absoluteTimeoutMs: 3_600_000 });
    expect(await other.load(sessionId)).toBeNull();
  });
});

describe('redis store layout', () => {
  it('keeps a session as one string and reads one an earlier version wrote as a hash', async () => {
    const prefix = `layout${process.pid}:`;
    const store = new RedisStore(connectRedis({ url: redis.url, keyPrefix: prefix }), prefix);
    const client = redis.client();
    try {
      await waitReady(store);
      await store.createSession('new', record(1), 60_000);
      expect(await client.type(`${prefix}s:{new}`)).toBe('string');

      const abs = Date.now() + 60_000;
      await client.hset(`${prefix}s:{old}`, 'v', '7', 'd', Buffer.from([9, 58, 8]), 'a', String(abs));
      await client.pexpire(`${prefix}s:{old}`, 30_000);
      expect(await store.readSession('old', 60_000)).toEqual({ version: 7, data: Buffer.from([9, 58, 8]), absoluteExpiresAt: abs });
      expect(await client.type(`${prefix}s:{old}`)).toBe('string');
      // written over by a compare-and-set like any other
      expect(await store.replaceSession('old', 7, { version: 8, data: Buffer.from([1]), absoluteExpiresAt: abs })).toBe(true);
      expect((await store.readSession('old', 60_000))?.version).toBe(8);
    } finally {
      client.disconnect();
      await store.close();
    }
  });
});
