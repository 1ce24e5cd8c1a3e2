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

/** The store's name for a user (their sessions, user-sessions.ts): the hash of the sub's index key. */
export const userKeyOf = (sub: string): string => indexKey('sub', sub);

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

  /** The store ids of the sessions of a sid, or of a sub when there is no sid. */
  list(ref: SessionRef): Promise<string[]> {
    const key = keyOf(ref);
    return key ? this.store.listIndex(key) : Promise.resolve([]);
  }

  /** Unlist sessions that were ended. */
  async drop(ref: SessionRef, storeIds: string[]): Promise<void> {
    const key = keyOf(ref);
    if (key) await this.store.dropFromIndex(key, storeIds);
  }
}

/** The index a back-channel logout looks in: the sid's, or the sub's when there is no sid. */
function keyOf(ref: SessionRef): string | undefined {
  if (ref.sid) return indexKey('sid', ref.sid);
  if (ref.sub) return indexKey('sub', ref.sub);
  return undefined;
}
