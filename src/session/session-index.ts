import { createHash } from 'node:crypto';
import type { SessionStore } from '../store/store.js';

// Sessions by the IdP's session id (sid) and by subject (sub), so that a back-channel
// logout finds every session it ends. Index keys are hashes; the store sees no sid or sub.

export interface SessionRef {
  sid?: string;
  sub?: string;
}

const indexKey = (kind: 'sid' | 'sub', value: string) =>
  createHash('sha256').update(`${kind}\0${value}`).digest('base64url');

export class SessionIndex {
  constructor(
    private readonly store: SessionStore,
    /** as long as a session can live: an index entry never outlives the sessions it names */
    private readonly ttlMs: number,
  ) {}

  async add(storeId: string, ref: SessionRef): Promise<void> {
    const writes: Promise<void>[] = [];
    if (ref.sid) writes.push(this.store.addToIndex(indexKey('sid', ref.sid), storeId, this.ttlMs));
    if (ref.sub) writes.push(this.store.addToIndex(indexKey('sub', ref.sub), storeId, this.ttlMs));
    await Promise.all(writes);
  }

  /** List again what `take` returned, when ending those sessions failed midway. */
  async restore(ref: SessionRef, storeIds: string[]): Promise<void> {
    const key = ref.sid ? indexKey('sid', ref.sid) : ref.sub ? indexKey('sub', ref.sub) : undefined;
    if (key) await Promise.all(storeIds.map((id) => this.store.addToIndex(key, id, this.ttlMs)));
  }

  /** The store ids of the sessions of a sid, or of a sub when there is no sid; the index entry goes. */
  take(ref: SessionRef): Promise<string[]> {
    if (ref.sid) return this.store.takeIndex(indexKey('sid', ref.sid));
    if (ref.sub) return this.store.takeIndex(indexKey('sub', ref.sub));
    return Promise.resolve([]);
  }
}
