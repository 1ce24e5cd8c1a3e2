import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreUnavailableError } from '../errors.js';
import type { StoreConfig } from '../config/types.js';
import type { SessionStore, StoredSession } from './store.js';
import { READ_SESSION, RELEASE_LOCK, RENEW_LOCK, REPLACE_SESSION } from './redis-scripts.js';

type Key = string | Buffer;
type Arg = string | number | Buffer;
/** The scripts, as ioredis's defineCommand adds them (it cannot type them itself). */
interface ScriptCommands {
  bffReadSessionBuffer(key: Key, now: Arg, idleMs: Arg): Promise<[Buffer, Buffer, Buffer] | null>;
  bffReplaceSession(key: Key, expected: Arg, version: Arg, data: Buffer, abs: Arg): Promise<number>;
  bffRenewLock(key: Key, owner: Arg, leaseMs: Arg): Promise<number>;
  bffReleaseLock(key: Key, owner: Arg): Promise<number>;
}
type Client = (Redis | Cluster) & ScriptCommands;

const CONNECT_WAIT_MS = 2_000;

// Fail fast while Redis is away (no offline queue, a command timeout): callers get a 503
// at once instead of piling up; reconnection goes on in the background for ever.
const failFast: RedisOptions = {
  enableOfflineQueue: false,
  commandTimeout: 1_000,
  connectTimeout: 2_000,
  maxRetriesPerRequest: 0,
  retryStrategy: (times) => Math.min(times * 100, 1_000),
};

export function connectRedis(config: StoreConfig): Redis | Cluster {
  if (config.cluster) {
    return new Cluster(config.cluster.nodes.map(parseHostPort), {
      enableOfflineQueue: false,
      scaleReads: 'master',
      clusterRetryStrategy: (times) => Math.min(times * 100, 1_000),
      redisOptions: { ...failFast, password: config.cluster.password },
    });
  }
  if (config.sentinel) {
    const { name, nodes, password, sentinelPassword } = config.sentinel;
    return new Redis({
      ...failFast,
      sentinels: nodes.map(parseHostPort),
      name,
      password,
      sentinelPassword,
      sentinelRetryStrategy: (times) => Math.min(times * 100, 1_000),
    });
  }
  return new Redis(config.url ?? 'redis://127.0.0.1:6379', failFast);
}

function parseHostPort(node: string): { host: string; port: number } {
  const i = node.lastIndexOf(':');
  return { host: node.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(node.slice(i + 1)) };
}

export class RedisStore implements SessionStore {
  private readonly redis: Client;
  private wasReady = false;

  constructor(
    redis: Redis | Cluster,
    private readonly prefix: string,
  ) {
    redis.defineCommand('bffReadSession', { numberOfKeys: 1, lua: READ_SESSION });
    redis.defineCommand('bffReplaceSession', { numberOfKeys: 1, lua: REPLACE_SESSION });
    redis.defineCommand('bffRenewLock', { numberOfKeys: 1, lua: RENEW_LOCK });
    redis.defineCommand('bffReleaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
    // errors surface on the commands; the event only needs a listener so it is not fatal
    redis.on('error', () => {});
    this.redis = redis as Client;
    redis.once('ready', () => (this.wasReady = true));
  }


  // The {id} hash tag keeps a session, its lock and its successor on one cluster slot.
  private sessionKey = (id: string) => `${this.prefix}s:{${id}}`;
  private lockKey = (id: string) => `${this.prefix}lock:{${id}}`;
  private onceKey = (id: string) => `${this.prefix}once:{${id}}`;

  readSession(id: string, idleMs: number): Promise<StoredSession | null> {
    return this.run(async () => {
      const r = await this.redis.bffReadSessionBuffer(this.sessionKey(id), Date.now(), idleMs);
      if (!r) return null;
      return { version: Number(r[0]), data: r[1], absoluteExpiresAt: Number(r[2]) };
    });
  }

  createSession(id: string, s: StoredSession, idleMs: number): Promise<void> {
    const ttl = Math.max(1, Math.min(idleMs, s.absoluteExpiresAt - Date.now()));
    return this.run(async () => {
      const key = this.sessionKey(id);
      const res = await this.redis
        .multi()
        .hset(key, 'v', s.version, 'd', s.data, 'a', s.absoluteExpiresAt)
        .pexpire(key, ttl)
        .exec();
      const failed = res?.find(([err]) => err);
      if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
    });
  }

  replaceSession(id: string, expectedVersion: number, s: StoredSession): Promise<boolean> {
    return this.run(async () => {
      const key = this.sessionKey(id);
      const r = await this.redis.bffReplaceSession(key, expectedVersion, s.version, s.data, s.absoluteExpiresAt);
      return r === 1;
    });
  }

  deleteSession(id: string): Promise<void> {
    return this.run(async () => void (await this.redis.del(this.sessionKey(id))));
  }

  putOnce(id: string, data: Buffer, ttlMs: number): Promise<void> {
    return this.run(async () => void (await this.redis.set(this.onceKey(id), data, 'PX', ttlMs)));
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

  releaseLock(id: string, owner: string): Promise<void> {
    return this.run(async () => void (await this.redis.bffReleaseLock(this.lockKey(id), owner)));
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
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw new StoreUnavailableError(e);
    }
  }
}
