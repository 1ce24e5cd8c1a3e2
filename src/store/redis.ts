import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, type Redis } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';
import type { SessionChangeListener, SessionChangeWatch, SessionStore, StoredSession } from './store.js';
import { watchSessionChanges } from './redis-session-changes.js';
import { RedisUserSessions } from './redis-user-sessions.js';
import { packSession, unpackSession } from './stored-session-bytes.js';
import { ADD_TO_INDEX, DELETE_SESSION, READ_SESSION, RELEASE_LOCK, RENEW_LOCK, REPLACE_SESSION } from './redis-scripts.js';

type Key = string | Buffer;
type Arg = string | number | Buffer;
/** The scripts, as ioredis's defineCommand adds them (it cannot type them itself). */
interface ScriptCommands {
  bffReadSessionBuffer(key: Key, now: Arg, idleMs: Arg): Promise<Buffer | null>;
  bffReplaceSession(key: Key, expected: Arg, value: Buffer, channel: Arg, id: Arg): Promise<number>;
  bffDeleteSession(key: Key, channel: Arg, id: Arg): Promise<number>;
  bffRenewLock(key: Key, owner: Arg, leaseMs: Arg): Promise<number>;
  bffReleaseLock(key: Key, owner: Arg): Promise<number>;
  bffAddToIndex(key: Key, storeId: Arg, ttlMs: Arg, nowMs: Arg): Promise<number>;
}
type Client = (Redis | Cluster) & ScriptCommands;

const CONNECT_WAIT_MS = 2_000;
/** how long a refresh waits for a replica to acknowledge its lock (Sentinel) */
const CONFIRM_WAIT_MS = 500;
/** after a reconnect, how long no refresh token is spent (longer than the reconnect backoff cap plus a write try) */
const SETTLE_AFTER_RECONNECT_MS = 1_000;

/** ioredis learns the scripts per connection. */
function withScripts(redis: Redis | Cluster): Client {
  redis.defineCommand('bffReadSession', { numberOfKeys: 1, lua: READ_SESSION });
  redis.defineCommand('bffReplaceSession', { numberOfKeys: 1, lua: REPLACE_SESSION });
  redis.defineCommand('bffDeleteSession', { numberOfKeys: 1, lua: DELETE_SESSION });
  redis.defineCommand('bffRenewLock', { numberOfKeys: 1, lua: RENEW_LOCK });
  redis.defineCommand('bffReleaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
  redis.defineCommand('bffAddToIndex', { numberOfKeys: 1, lua: ADD_TO_INDEX });
  // errors surface on the commands; the event only needs a listener so it is not fatal
  redis.on('error', () => {});
  return redis as Client;
}

export class RedisStore implements SessionStore {
  private readonly redis: Client;
  readonly users: RedisUserSessions;

  private wasReady = false;
  /** until then (epoch ms) no refresh token is spent: the connection has just come back */
  private settlingUntil = 0;

  constructor(
    redis: Redis | Cluster,
    private readonly prefix: string,
    /**
     * Sentinel: after a compare-and-set, wait (best effort, this long at most) until a
     * replica has the write. A refresh's new tokens written to a master that a failover is
     * demoting would otherwise vanish with it, and the consumed refresh token come back.
     */
    private readonly replicationWaitMs = 0,
  ) {
    this.redis = withScripts(redis);
    this.users = new RedisUserSessions(redis, prefix, this.sessionKey);
    redis.on('ready', () => {
      // Back after an outage: another instance may hold tokens it refreshed while the store
      // was away, not yet written. Its write comes within its reconnect backoff plus 100 ms;
      // until then a refresh here would find the spent refresh token and present it again.
      if (this.wasReady) this.settlingUntil = Date.now() + SETTLE_AFTER_RECONNECT_MS;
      this.wasReady = true;
    });
  }

  /**
   * Whether a replica has every write of this connection. One connection on purpose: the
   * session a lock holder re-reads must come from the same primary as its lock, also while a
   * failover moves the client. WAIT blocks the connection, so it is used only on refreshes.
   */
  private async replicated(timeoutMs: number): Promise<boolean> {
    return (await (this.redis as Redis).wait(1, timeoutMs)) >= 1;
  }

  private get waitsForReplicas(): boolean {
    return this.replicationWaitMs > 0 && !(this.redis instanceof Cluster);
  }


  // The {id} hash tag keeps a session, its lock and its successor on one cluster slot.
  private sessionKey = (id: string) => `${this.prefix}s:{${id}}`;
  private lockKey = (id: string) => `${this.prefix}lock:{${id}}`;
  private onceKey = (id: string) => `${this.prefix}once:{${id}}`;
  private indexKey = (index: string) => `${this.prefix}idx:{${index}}`;
  /** where session writes and deletes are announced (the ids of the sessions) */
  private get changesChannel() {
    return `${this.prefix}session-changes`;
  }

  readSession(id: string, idleMs: number): Promise<StoredSession | null> {
    return this.run(async () => {
      const value = await this.redis.bffReadSessionBuffer(this.sessionKey(id), Date.now(), idleMs);
      return value ? unpackSession(value) : null;
    });
  }

  createSession(id: string, s: StoredSession, idleMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.min(idleMs, s.absoluteExpiresAt - Date.now()));
    // a first write is a compare-and-set too: only where nothing is
    return this.run(async () => (await this.redis.set(this.sessionKey(id), packSession(s), 'PX', ttl, 'NX')) === 'OK');
  }

  replaceSession(id: string, expectedVersion: number, s: StoredSession): Promise<boolean> {
    return this.run(async () => {
      const key = this.sessionKey(id);
      const value = packSession(s);
      const deadline = Date.now() + this.replicationWaitMs;
      for (;;) {
        const r = await this.redis.bffReplaceSession(key, expectedVersion, value, this.changesChannel, id);
        if (r === 0) return false;
        if (!this.waitsForReplicas || (await this.replicated(200)) || Date.now() > deadline) return true;
        // not on a replica yet: a failover may be under way; write again (idempotent) once
        // the client follows the new master, where the expected version is still there
        await sleep(100);
      }
    });
  }

  deleteSession(id: string): Promise<void> {
    return this.run(async () => {
      await this.redis.bffDeleteSession(this.sessionKey(id), this.changesChannel, id);
      await this.users.forget(id);
    });
  }

  watchSessionChanges(listener: SessionChangeListener): SessionChangeWatch {
    return watchSessionChanges(this.redis, this.changesChannel, listener);
  }

  takeOnce(id: string): Promise<Buffer | null> {
    return this.run(() => this.redis.getdelBuffer(this.onceKey(id)));
  }

  acquireLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.run(async () => (await this.redis.set(this.lockKey(id), owner, 'PX', leaseMs, 'NX')) === 'OK');
  }

  renewLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.run(async () => (await this.redis.bffRenewLock(this.lockKey(id), owner, leaseMs)) === 1);
  }

  confirmLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    if (Date.now() < this.settlingUntil) return Promise.resolve(false);
    return this.run(async () => {
      const renew = async () => (await this.redis.bffRenewLock(this.lockKey(id), owner, leaseMs)) === 1;
      if (!(await renew())) return false;
      if (!this.waitsForReplicas) return true;
      // During a failover two primaries answer for a moment, each with its own locks, and
      // the one about to be demoted has no replica left. So a lock counts only once a
      // replica has it (then it survives a promotion). Without that acknowledgement the lock
      // is treated as lost: the caller starts over, on the new primary once the client has
      // followed the failover, and a primary with no replica refreshes nothing (503).
      // The WAIT stays under the command timeout, so it is answered, not cut off.
      return this.replicated(CONFIRM_WAIT_MS);
    });
  }

  releaseLock(id: string, owner: string): Promise<void> {
    return this.run(async () => void (await this.redis.bffReleaseLock(this.lockKey(id), owner)));
  }

  addToIndex(index: string, storeId: string, ttlMs: number): Promise<void> {
    return this.run(async () => void (await this.redis.bffAddToIndex(this.indexKey(index), storeId, ttlMs, Date.now())));
  }

  listIndex(index: string): Promise<string[]> {
    return this.run(() => this.redis.zrangebyscore(this.indexKey(index), `(${Date.now()}`, '+inf'));
  }

  dropFromIndex(index: string, storeIds: string[]): Promise<void> {
    if (storeIds.length === 0) return Promise.resolve();
    return this.run(async () => void (await this.redis.zrem(this.indexKey(index), ...storeIds)));
  }

  claimOnce(id: string, ttlMs: number): Promise<boolean> {
    return this.run(async () => (await this.redis.set(this.onceKey(id), '1', 'PX', ttlMs, 'NX')) === 'OK');
  }

  ping(): Promise<void> {
    return this.run(async () => {
      await this.connected();
      if (this.redis instanceof Cluster) {
        await Promise.all(this.redis.nodes('master').map((n) => n.ping()));
      } else {
        await this.redis.ping();
      }
    });
  }

  /** Wait (briefly) for the first connection: without an offline queue, commands sent
   * before it is ready fail at once. Later outages fail fast instead. */
  private async connected(): Promise<void> {
    if (this.redis.status === 'ready' || this.wasReady) return;
    if (this.redis.status === 'wait') void this.redis.connect().catch(() => {});
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, CONNECT_WAIT_MS);
      this.redis.once('ready', done);
    });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw new StoreUnavailableError(e);
    }
  }
}
