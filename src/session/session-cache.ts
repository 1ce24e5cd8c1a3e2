import type { SessionStore, SessionChangeWatch } from '../store/store.js';
import type { LoadedSession } from './session.js';

// Decoded sessions kept for a moment, so that a burst of calls on one session reads and
// decrypts it once. Only while the store's change feed is live: every write or delete of a
// session, by any instance, drops it here as soon as the feed brings it, and a break in the
// feed empties the cache. An entry lives ttlMs at most, and past half of it the next call has
// the session read again in the background, so an active session is still read from the store
// (which slides its idle timeout) about twice per ttlMs, and no call waits for it.
//
// What a stale entry could do is bounded by what already happens without it: the tokens
// path treats the session it is given as a snapshot (it re-reads under the lock before a
// refresh, and late callers holding an older version find the successor), and a call that
// raced a logout by a millisecond was always possible.

interface Entry {
  session: LoadedSession;
  until: number;
  /** from then on, the next call has it read again in the background (once) */
  rereadFrom: number;
}

export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private readonly watch: SessionChangeWatch | undefined;
  /**
   * Bumped by every change heard (and every gap). A store read that began before a change
   * may hold what the change replaced: put() takes only reads begun in the current epoch.
   */
  private changes = 0;

  constructor(
    store: SessionStore,
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {
    this.watch = ttlMs > 0 ? store.watchSessionChanges?.({
      changed: (storeId) => {
        this.changes += 1;
        this.entries.delete(storeId);
      },
      gap: () => {
        this.changes += 1;
        this.entries.clear();
      },
    }) : undefined;
  }

  get(storeId: string): LoadedSession | undefined {
    const entry = this.entries.get(storeId);
    if (!entry) return undefined;
    const now = Date.now();
    if (entry.until > now && entry.session.absoluteExpiresAt > now && this.watch?.live) return entry.session;
    this.entries.delete(storeId);
    return undefined;
  }

  /** where the change feed is: take it before a store read, hand it to put() after */
  get epoch(): number {
    return this.changes;
  }

  put(session: LoadedSession, readSince: number): void {
    if (!this.watch?.live || readSince !== this.changes) return;
    if (this.entries.size >= this.maxEntries) {
      // the oldest entry goes (a Map iterates in insertion order)
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const now = Date.now();
    this.entries.set(session.storeId, { session, until: now + this.ttlMs, rereadFrom: now + this.ttlMs / 2 });
  }

  /**
   * Whether the session should be read again now, in the background, while its entry still
   * serves: true once per entry past half its life. Calls then never wait for the periodic
   * read (which also slides the session's idle timeout in the store).
   */
  claimReread(storeId: string): boolean {
    const entry = this.entries.get(storeId);
    if (!entry || Date.now() < entry.rereadFrom) return false;
    entry.rereadFrom = Infinity;
    return true;
  }

  /** this process wrote or deleted the session (the feed will say so too) */
  drop(storeId: string): void {
    this.changes += 1;
    this.entries.delete(storeId);
  }

  async close(): Promise<void> {
    this.entries.clear();
    await this.watch?.close();
  }
}
