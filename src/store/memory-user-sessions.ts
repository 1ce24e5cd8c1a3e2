import type { UserSessionRecord, UserSessionStore } from './store.js';

// The sessions of each user in the in-process store: the same semantics as
// redis-user-sessions.ts (one process, so every step is atomic by itself).

export class MemoryUserSessions implements UserSessionStore {
  /** user → store id → record */
  private readonly byUser = new Map<string, Map<string, UserSessionRecord>>();

  constructor(
    private readonly exists: (storeId: string) => boolean,
    private readonly now: () => number,
  ) {}

  async addUserSession(user: string, record: UserSessionRecord, cap: number): Promise<string[]> {
    const entries = this.live(user) ?? new Map<string, UserSessionRecord>();
    this.byUser.set(user, entries);
    const others = [...entries.values()].filter((r) => r.storeId !== record.storeId);
    entries.set(record.storeId, { ...record });
    if (cap <= 0 || others.length + 1 <= cap) return [];
    others.sort((a, b) => a.createdAt - b.createdAt || (a.storeId < b.storeId ? -1 : 1));
    const evicted = others.slice(0, others.length + 1 - cap).map((r) => r.storeId);
    for (const id of evicted) entries.delete(id);
    return evicted;
  }

  async touchUserSession(user: string, record: UserSessionRecord, minIntervalMs: number): Promise<number | null> {
    const old = this.live(user)?.get(record.storeId);
    if (!old) return null;
    const due = record.lastSeenAt - old.lastSeenAt >= minIntervalMs || (!old.hasUserAgent && record.hasUserAgent);
    if (!due) return old.lastSeenAt;
    this.byUser.get(user)!.set(record.storeId, { ...record });
    return record.lastSeenAt;
  }

  async listUserSessions(user: string): Promise<UserSessionRecord[]> {
    return [...(this.live(user)?.values() ?? [])].map((r) => ({ ...r }));
  }

  async dropUserSessions(user: string, storeIds: string[]): Promise<void> {
    const entries = this.byUser.get(user);
    if (!entries) return;
    for (const id of storeIds) entries.delete(id);
    if (entries.size === 0) this.byUser.delete(user);
  }

  async sessionsExist(storeIds: string[]): Promise<boolean[]> {
    return storeIds.map((id) => this.exists(id));
  }

  async sessionStats(): Promise<{ sessions: number; users: number }> {
    let sessions = 0;
    let users = 0;
    for (const user of [...this.byUser.keys()]) {
      const entries = this.live(user);
      if (!entries) continue;
      const alive = [...entries.keys()].filter((id) => this.exists(id)).length;
      sessions += alive;
      if (alive > 0) users += 1;
    }
    return { sessions, users };
  }

  /** the user's entries within their liveUntil (others dropped); undefined when none are left */
  private live(user: string): Map<string, UserSessionRecord> | undefined {
    const entries = this.byUser.get(user);
    if (!entries) return undefined;
    const now = this.now();
    for (const [id, r] of entries) if (r.liveUntil <= now) entries.delete(id);
    if (entries.size > 0) return entries;
    this.byUser.delete(user);
    return undefined;
  }
}
