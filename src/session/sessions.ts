import { createHash, randomBytes } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SessionConfig } from '../config/types.js';
import { errors, type StoreUnavailableError } from '../errors.js';
import { whileStoreAway } from '../store/retry.js';
import type { SessionStore } from '../store/store.js';
import type { SessionCipher } from './cipher.js';
import type { SessionCache } from './session-cache.js';
import { SessionIndex, type SessionRef } from './session-index.js';
import type { LoadedSession, SessionData } from './session.js';

/** 256 random bits, base64url: the value the cookie carries (signed). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** The store never sees a session id, only this hash of it. */
export function storeIdOf(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('base64url');
}

/** as many as the cookies remember verified (cookies.ts) */
const STORE_IDS_KEPT = 10_000;

// Sessions on top of the store: encryption at rest, timeouts, compare-and-set writes, and
// an index by IdP session and subject for back-channel logout.
export class Sessions {
  private readonly index: SessionIndex;
  /** store reads in flight for load(), by store id */
  private readonly loading = new Map<string, { epoch: number; read: Promise<LoadedSession | null> }>();
  /** session id → store id for load(), so a burst of calls hashes once */
  private readonly storeIds = new Map<string, string>();
  /** told of every new session and of sessions ended by subject (user-sessions.ts) */
  registry?: {
    created(session: LoadedSession): Promise<void>;
    dropped(sub: string, storeIds: string[]): Promise<void>;
  };

  constructor(
    private readonly store: SessionStore,
    private readonly cipher: SessionCipher,
    private readonly config: Pick<SessionConfig, 'idleTimeoutMs' | 'absoluteTimeoutMs'>,
    /** decoded sessions for the calls of a request (load); none: every load reads the store */
    private readonly cache?: SessionCache,
  ) {
    this.index = new SessionIndex(store, config.absoluteTimeoutMs);
  }

  async create(data: SessionData): Promise<{ sessionId: string; session: LoadedSession }> {
    const sessionId = newSessionId();
    const storeId = storeIdOf(sessionId);
    const absoluteExpiresAt = data.createdAt + this.config.absoluteTimeoutMs;
    const stored = { version: 1, data: this.seal(storeId, data), absoluteExpiresAt };
    // 256 random bits do not collide; should the store say otherwise, nothing is overwritten
    if (!(await this.store.createSession(storeId, stored, this.config.idleTimeoutMs))) {
      throw errors.internal({ cause: new Error('a new session id already exists in the store') });
    }
    await this.index.add(storeId, data.sid === undefined ? { sub: data.sub } : { sid: data.sid, sub: data.sub });
    const session = this.loaded(storeId, 1, absoluteExpiresAt, data);
    await this.registry?.created(session);
    return { sessionId, session };
  }

  /**
   * The live session of a cookie's id, or null (unknown, timed out, or unreadable): what a
   * request works with, possibly from the cache (a snapshot; loadByStoreId reads the store).
   * `served.fromCache` is set when the cache answered (the traces tell the two apart).
   */
  async load(sessionId: string, served?: { fromCache: boolean }): Promise<LoadedSession | null> {
    const storeId = this.storeIdFor(sessionId);
    if (!this.cache) return this.loadByStoreId(storeId);
    if (this.cache.get(storeId)) {
      // a change announced before this request came in is already readable on the change
      // feed's socket: let the event loop take it first, then look again
      await yieldToEventLoop();
      const cached = this.cache.get(storeId);
      if (cached) {
        if (this.cache.claimReread(storeId)) this.readIntoCache(this.cache, storeId).catch(() => {});
        if (served) served.fromCache = true;
        return cached;
      }
    }
    return this.readIntoCache(this.cache, storeId);
  }

  private storeIdFor(sessionId: string): string {
    let storeId = this.storeIds.get(sessionId);
    if (storeId === undefined) {
      if (this.storeIds.size >= STORE_IDS_KEPT) this.storeIds.clear();
      this.storeIds.set(sessionId, (storeId = storeIdOf(sessionId)));
    }
    return storeId;
  }

  /**
   * The calls that find the cache empty share one store read, unless a change was heard
   * since it began (then it may hold what the change replaced).
   */
  private async readIntoCache(cache: SessionCache, storeId: string): Promise<LoadedSession | null> {
    const epoch = cache.epoch;
    let pending = this.loading.get(storeId);
    if (!pending || pending.epoch !== epoch) {
      const read = this.loadByStoreId(storeId);
      const mine = (pending = { epoch, read });
      this.loading.set(storeId, mine);
      read.then(
        () => this.loading.get(storeId) === mine && this.loading.delete(storeId),
        () => this.loading.get(storeId) === mine && this.loading.delete(storeId),
      );
    }
    const session = await pending.read;
    if (session) cache.put(session, epoch);
    else cache.drop(storeId); // gone without a word on the feed (timed out)
    return session;
  }

  async loadByStoreId(storeId: string): Promise<LoadedSession | null> {
    const stored = await this.store.readSession(storeId, this.config.idleTimeoutMs);
    if (!stored) return null;
    const plain = this.cipher.open(stored.data, storeId);
    // sealed under a retired key or tampered with: as good as gone
    if (!plain) return null;
    const data = JSON.parse(plain.toString('utf8')) as SessionData;
    return this.loaded(storeId, stored.version, stored.absoluteExpiresAt, data);
  }

  /**
   * Write new data over `current` only if nobody else wrote since it was read.
   * Null when the version moved (or the session is gone): the caller re-reads.
   */
  async replace(
    current: LoadedSession,
    data: SessionData,
    opts: { retryForMs?: number; onStoreAway?: (error: StoreUnavailableError) => void } = {},
  ): Promise<LoadedSession | null> {
    const version = current.version + 1;
    const stored = { version, data: this.seal(current.storeId, data), absoluteExpiresAt: current.absoluteExpiresAt };
    // sealed once: a retry sends the very same bytes, so the store sees it as the same write
    const write = () => this.store.replaceSession(current.storeId, current.version, stored);
    this.cache?.drop(current.storeId);
    const written = await (opts.retryForMs ? whileStoreAway(write, opts.retryForMs, opts.onStoreAway) : write());
    return written ? { ...current, version, data } : null;
  }

  async delete(storeId: string): Promise<void> {
    this.cache?.drop(storeId);
    await this.store.deleteSession(storeId);
  }

  /** Ends every session of an IdP session (sid), or of a subject when no sid is given; returns how many the index named. */
  async endAllOf(ref: SessionRef): Promise<number> {
    // the index goes last: should the store fail midway, the IdP's retry finds every session
    const storeIds = await this.index.list(ref);
    await Promise.all(storeIds.map((id) => this.delete(id)));
    await this.index.drop(ref, storeIds);
    if (ref.sub && !ref.sid) await this.registry?.dropped(ref.sub, storeIds);
    return storeIds.length;
  }

  private seal(storeId: string, data: SessionData): Buffer {
    return this.cipher.seal(Buffer.from(JSON.stringify(data)), storeId);
  }

  private loaded(storeId: string, version: number, absoluteExpiresAt: number, data: SessionData): LoadedSession {
    const idleExpiresAt = Math.min(Date.now() + this.config.idleTimeoutMs, absoluteExpiresAt);
    return { storeId, version, absoluteExpiresAt, idleExpiresAt, data };
  }
}
