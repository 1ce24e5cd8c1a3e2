import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';
import { ADD_USER_SESSION, DROP_USER_SESSIONS, TOUCH_USER_SESSION } from './redis-user-scripts.js';
import type { UserSessionRecord, UserSessionStore } from './store.js';
import { packUserSession, unpackUserSession } from './user-session-bytes.js';

// The sessions of each user in Redis: one hash per user (`<prefix>u:{<user>}`, its scripts
// in redis-user-scripts.ts), plus two sorted sets for the counts: `<prefix>live` (store id →
// liveUntil) and `<prefix>users` (user → the latest liveUntil of their sessions). A count
// prunes what is past its time (ZREMRANGEBYSCORE, amortised: each entry is removed once)
// and answers ZCARD, so it never scans the key space. The sets are separate keys (other
// cluster slots) from the user's hash, updated by separate commands: counts, not guarantees.

type Key = string | Buffer;
type Arg = string | number | Buffer;
interface UserScripts {
  bffAddUserSession(key: Key, storeId: Arg, value: Buffer, now: Arg, cap: Arg, keyTtl: Arg): Promise<string[]>;
  bffTouchUserSession(key: Key, storeId: Arg, value: Buffer, now: Arg, minInterval: Arg, keyTtl: Arg, ua: Arg): Promise<number>;
  bffDropUserSessions(key: Key, ...storeIds: Arg[]): Promise<number>;
}
type Client = (Redis | Cluster) & UserScripts;

export class RedisUserSessions implements UserSessionStore {
  private readonly redis: Client;

  constructor(
    redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly sessionKey: (storeId: string) => string,
  ) {
    redis.defineCommand('bffAddUserSession', { numberOfKeys: 1, lua: ADD_USER_SESSION });
    redis.defineCommand('bffTouchUserSession', { numberOfKeys: 1, lua: TOUCH_USER_SESSION });
    redis.defineCommand('bffDropUserSessions', { numberOfKeys: 1, lua: DROP_USER_SESSIONS });
    this.redis = redis as Client;
  }

  private userKey = (user: string) => `${this.prefix}u:{${user}}`;
  private get liveKey() {
    return `${this.prefix}live`;
  }
  private get usersKey() {
    return `${this.prefix}users`;
  }

  addUserSession(user: string, r: UserSessionRecord, cap: number): Promise<string[]> {
    return run(async () => {
      const keyTtl = Math.max(1, r.liveUntil - Date.now());
      const evicted = await this.redis.bffAddUserSession(this.userKey(user), r.storeId, packUserSession(r), Date.now(), cap, keyTtl);
      await Promise.all([
        this.redis.zadd(this.liveKey, r.liveUntil, r.storeId),
        this.redis.zadd(this.usersKey, 'GT', r.liveUntil, user),
        evicted.length > 0 ? this.redis.zrem(this.liveKey, ...evicted) : undefined,
      ]);
      return evicted;
    });
  }

  touchUserSession(user: string, r: UserSessionRecord, minIntervalMs: number): Promise<number | null> {
    return run(async () => {
      const keyTtl = Math.max(1, r.liveUntil - Date.now());
      const seen = await this.redis.bffTouchUserSession(
        this.userKey(user), r.storeId, packUserSession(r), r.lastSeenAt, minIntervalMs, keyTtl, r.hasUserAgent ? 1 : 0,
      );
      if (seen === -1) return null;
      if (seen === r.lastSeenAt) {
        // written: the counts follow the new liveUntil
        await Promise.all([
          this.redis.zadd(this.liveKey, 'XX', r.liveUntil, r.storeId),
          this.redis.zadd(this.usersKey, 'GT', r.liveUntil, user),
        ]);
      }
      return seen;
    });
  }

  listUserSessions(user: string): Promise<UserSessionRecord[]> {
    return run(async () => {
      const all = await this.redis.hgetallBuffer(this.userKey(user));
      const now = Date.now();
      return Object.entries(all).flatMap(([storeId, value]) => {
        const record = unpackUserSession(storeId, value);
        return record && record.liveUntil > now ? [record] : [];
      });
    });
  }

  dropUserSessions(user: string, storeIds: string[]): Promise<void> {
    if (storeIds.length === 0) return Promise.resolve();
    return run(async () => {
      const [left] = await Promise.all([
        this.redis.bffDropUserSessions(this.userKey(user), ...storeIds),
        this.redis.zrem(this.liveKey, ...storeIds),
      ]);
      if (left === 0) await this.redis.zrem(this.usersKey, user);
    });
  }

  sessionsExist(storeIds: string[]): Promise<boolean[]> {
    // one EXISTS per key: in a cluster they live on different slots
    return run(() => Promise.all(storeIds.map(async (id) => (await this.redis.exists(this.sessionKey(id))) === 1)));
  }

  sessionStats(): Promise<{ sessions: number; users: number }> {
    return run(async () => {
      const now = Date.now();
      const count = async (key: string) => {
        await this.redis.zremrangebyscore(key, '-inf', now);
        return this.redis.zcard(key);
      };
      const [sessions, users] = await Promise.all([count(this.liveKey), count(this.usersKey)]);
      return { sessions, users };
    });
  }

  /** a session deleted by any path stops counting at once */
  async forget(storeId: string): Promise<void> {
    await this.redis.zrem(this.liveKey, storeId);
  }
}

async function run<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw new StoreUnavailableError(e);
  }
}
