// The store behind sessions, one-time claims and refresh locks. Implementations: Redis
// (standalone, sentinel, cluster) and an in-process map. Values arrive already encrypted;
// the store only sees opaque bytes plus the plaintext bookkeeping it needs to enforce
// versions and lifetimes. Ids are hashes of the secrets they stand for, never the secrets.

export interface StoredSession {
  /** bumped on every write; the compare-and-set token */
  version: number;
  /** encrypted session payload */
  data: Buffer;
  /** epoch ms after which the session is gone whatever its activity */
  absoluteExpiresAt: number;
}

/** What a cache of sessions hears from the store. */
export interface SessionChangeListener {
  /** a session was written or deleted (by any instance) */
  changed(id: string): void;
  /** changes may have gone unheard (the connection that hears them was lost): forget all */
  gap(): void;
}

export interface SessionChangeWatch {
  /** true while every change is heard; a cache serves only then */
  readonly live: boolean;
  close(): Promise<void>;
}

export interface SessionStore {
  /**
   * Read a session and slide its idle lifetime to min(now + idleMs, absoluteExpiresAt).
   * Null when it does not exist or is past either timeout.
   */
  readSession(id: string, idleMs: number): Promise<StoredSession | null>;

  /**
   * Write a new session (version 1 is the caller's choice) with its idle lifetime. False,
   * and nothing written, when the id is already there: a first write is a compare-and-set too.
   */
  createSession(id: string, session: StoredSession, idleMs: number): Promise<boolean>;

  /**
   * Compare-and-set: replace the payload only when the stored version is still
   * `expectedVersion`. The lifetime is kept. False when the version moved or the session is gone.
   */
  replaceSession(id: string, expectedVersion: number, session: StoredSession): Promise<boolean>;

  deleteSession(id: string): Promise<void>;

  /**
   * Hear of every write and delete of any session, by any instance. Stores that cannot
   * (the in-process one, which has nothing to gain) leave it out, and nothing is cached.
   */
  watchSessionChanges?(listener: SessionChangeListener): SessionChangeWatch;

  /** Read and delete a claim (`claimOnce`) atomically, freeing it: a second take gets null. */
  takeOnce(id: string): Promise<Buffer | null>;

  /** Take the lock of a session for `leaseMs` unless someone holds it. */
  acquireLock(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Extend a lease we still hold; false when it was lost. */
  renewLock(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Right before a refresh token is spent: whether the lock is still ours, as the store that
   * will survive a failover sees it (with a replica: once a replica has the lock too).
   */
  confirmLock(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Release a lock only if we still hold it (compare-and-delete). */
  releaseLock(id: string, owner: string): Promise<void>;

  /**
   * List a session under an index key (the hash of its IdP session id or subject, for
   * back-channel logout) for `ttlMs`; members past their time are dropped.
   */
  addToIndex(index: string, storeId: string, ttlMs: number): Promise<void>;
  /** The store ids still listed under an index key. */
  listIndex(index: string): Promise<string[]>;
  /** Unlist store ids (their sessions are gone); an index left empty goes. */
  dropFromIndex(index: string, storeIds: string[]): Promise<void>;
  /** True only for the first claim of an id within `ttlMs` (replay protection). */
  claimOnce(id: string, ttlMs: number): Promise<boolean>;

  /** the sessions of each user (listing, cap, counts); a store without it lists nothing */
  readonly users?: UserSessionStore;

  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A user's entry for one of their sessions, kept beside the session for listing it, the
 * per-user cap and the counts. The numbers are plaintext bookkeeping (the scripts compare
 * them); `meta` is sealed (the user agent and the absolute expiry).
 */
export interface UserSessionRecord {
  storeId: string;
  createdAt: number;
  lastSeenAt: number;
  /** epoch ms after which the session is surely gone (see session/user-sessions.ts) */
  liveUntil: number;
  /** whether `meta` holds a user agent (a touch that brings one writes even within the interval) */
  hasUserAgent: boolean;
  meta: Buffer;
}

/** The sessions of each user (`user`: a hash of the subject), and the live counts. */
export interface UserSessionStore {
  /**
   * List a new session under its user, dropping entries past their liveUntil; with `cap` > 0,
   * atomically unlist the user's oldest entries (by createdAt) beyond the cap and return
   * their store ids, for the caller to end. Concurrent adds never leave more than `cap`.
   */
  addUserSession(user: string, record: UserSessionRecord, cap: number): Promise<string[]>;
  /**
   * Write a newer record over the listed one only when the stored lastSeenAt is at least
   * `minIntervalMs` old (or it has no user agent and this one has). Returns the stored
   * lastSeenAt after the call, or null when the session is not listed (ended).
   */
  touchUserSession(user: string, record: UserSessionRecord, minIntervalMs: number): Promise<number | null>;
  /** The user's entries still within their liveUntil (entries of deleted sessions may remain: check them). */
  listUserSessions(user: string): Promise<UserSessionRecord[]>;
  /** Unlist ended sessions; a user left with none stops counting. */
  dropUserSessions(user: string, storeIds: string[]): Promise<void>;
  /** Which of these sessions still exist (without touching their lifetimes). */
  sessionsExist(storeIds: string[]): Promise<boolean[]>;
  /** Live sessions and distinct users, from counts kept as sessions come and go (no key scan). */
  sessionStats(): Promise<{ sessions: number; users: number }>;
}
