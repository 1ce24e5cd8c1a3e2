import { MemoryUserSessions } from './memory-user-sessions.js';
import type { SessionStore, StoredSession } from './store.js';

// The in-process store: one gateway instance only (the demo default). Lifetimes are
// enforced on read; a sweep every minute drops what nobody reads any more.

interface Entry<T> {
  value: T;
  expiresAt: number;
}

export class MemoryStore implements SessionStore {
  private readonly sessions = new Map<string, Entry<StoredSession>>();
  private readonly onces = new Map<string, Entry<Buffer>>();
  private readonly locks = new Map<string, Entry<string>>();
  /** index key → (store id → epoch ms it stays listed until) */
  private readonly indexes = new Map<string, Entry<Map<string, number>>>();
  private readonly sweeper: NodeJS.Timeout;
  readonly users: MemoryUserSessions;

  constructor(private readonly now: () => number = Date.now) {
    this.users = new MemoryUserSessions((id) => this.live(this.sessions, id) !== undefined, now);
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async readSession(id: string, idleMs: number): Promise<StoredSession | null> {
    const entry = this.live(this.sessions, id);
    if (!entry) return null;
    entry.expiresAt = Math.min(this.now() + idleMs, entry.value.absoluteExpiresAt);
    return { ...entry.value };
  }

  async createSession(id: string, session: StoredSession, idleMs: number): Promise<boolean> {
    if (this.live(this.sessions, id)) return false;
    const expiresAt = Math.min(this.now() + idleMs, session.absoluteExpiresAt);
    this.sessions.set(id, { value: { ...session }, expiresAt });
    return true;
  }

  async replaceSession(id: string, expectedVersion: number, session: StoredSession): Promise<boolean> {
    const entry = this.live(this.sessions, id);
    if (!entry || entry.value.version !== expectedVersion) return false;
    entry.value = { ...session };
    return true;
  }

  async deleteSession(id: string): Promise<void> {
    this.sessions.delete(id);
  }

  async takeOnce(id: string): Promise<Buffer | null> {
    const entry = this.live(this.onces, id);
    this.onces.delete(id);
    return entry ? entry.value : null;
  }

  async acquireLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    if (this.live(this.locks, id)) return false;
    this.locks.set(id, { value: owner, expiresAt: this.now() + leaseMs });
    return true;
  }

  async renewLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const entry = this.live(this.locks, id);
    if (!entry || entry.value !== owner) return false;
    entry.expiresAt = this.now() + leaseMs;
    return true;
  }

  confirmLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.renewLock(id, owner, leaseMs);
  }

  async releaseLock(id: string, owner: string): Promise<void> {
    if (this.live(this.locks, id)?.value === owner) this.locks.delete(id);
  }

  async addToIndex(index: string, storeId: string, ttlMs: number): Promise<void> {
    const now = this.now();
    const entry = this.live(this.indexes, index) ?? { value: new Map<string, number>(), expiresAt: 0 };
    entry.value.set(storeId, now + ttlMs);
    for (const [member, until] of entry.value) if (until <= now) entry.value.delete(member);
    entry.expiresAt = Math.max(entry.expiresAt, now + ttlMs);
    this.indexes.set(index, entry);
  }

  async listIndex(index: string): Promise<string[]> {
    const now = this.now();
    const entry = this.live(this.indexes, index);
    return entry ? [...entry.value].filter(([, until]) => until > now).map(([member]) => member) : [];
  }

  async dropFromIndex(index: string, storeIds: string[]): Promise<void> {
    const entry = this.live(this.indexes, index);
    if (!entry) return;
    for (const id of storeIds) entry.value.delete(id);
    if (entry.value.size === 0) this.indexes.delete(index);
  }

  async claimOnce(id: string, ttlMs: number): Promise<boolean> {
    if (this.live(this.onces, id)) return false;
    this.onces.set(id, { value: Buffer.alloc(0), expiresAt: this.now() + ttlMs });
    return true;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private live<T>(map: Map<string, Entry<T>>, id: string): Entry<T> | undefined {
    const entry = map.get(id);
    if (entry && entry.expiresAt <= this.now()) {
      map.delete(id);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    for (const map of [this.sessions, this.onces, this.locks, this.indexes] as Map<string, Entry<unknown>>[]) {
      for (const id of map.keys()) this.live(map, id);
    }
  }
}
