import { createHash } from 'node:crypto';
import type { SessionCipher } from '../session/cipher.js';
import type { SessionStore, StoredSession } from '../store/store.js';

// Where a token source's tokens live between calls: one entry of the shared store per
// source, sealed with the session cipher (the store id is the AAD), written through the
// session API so that every write is a compare-and-set on the entry's version.

/** What the gateway holds for one token source. */
export interface HeldToken {
  /** tags the sealed JSON, so it is never mistaken for a user session */
  kind: 'token-source';
  accessToken: string;
  /** epoch ms; undefined when the token endpoint did not say (then only an upstream 401 renews) */
  accessTokenExpiresAt?: number;
  refreshToken?: string;
  /** refresh_token grants since the last grant with the source's own credentials */
  refreshes: number;
}

export interface LoadedHeldToken {
  storeId: string;
  version: number;
  data: HeldToken;
}

/** An unused entry leaves the store after a week; the next call authenticates again. */
const IDLE_MS = 7 * 24 * 3600 * 1000;
const ABSOLUTE_MS = 30 * 24 * 3600 * 1000;

/** The store id of a source: a hash, so the key does not even name the source. */
export function tokenSourceStoreId(source: string): string {
  return createHash('sha256').update(`token-source:${source}`).digest('base64url');
}

export class HeldTokens {
  constructor(
    private readonly store: SessionStore,
    private readonly cipher: SessionCipher,
  ) {}

  /** The held token, or null when there is none (or it cannot be opened any more). */
  async read(storeId: string): Promise<LoadedHeldToken | null> {
    const stored = await this.store.readSession(storeId, IDLE_MS);
    return stored && this.open(storeId, stored);
  }

  /**
   * Write `data` over `current` (compare-and-set on its version), or as a new entry when
   * there was none. Null when another writer got there first: the caller re-reads.
   */
  async write(storeId: string, current: LoadedHeldToken | null, data: HeldToken): Promise<LoadedHeldToken | null> {
    const version = (current?.version ?? 0) + 1;
    const stored = { version, data: this.seal(storeId, data), absoluteExpiresAt: Date.now() + ABSOLUTE_MS };
    if (!current) {
      if (await this.store.createSession(storeId, stored, IDLE_MS)) return { storeId, version, data };
      // Something is there. A token another holder wrote meanwhile stands (the caller
      // re-reads); an entry this gateway cannot open (sealed with a retired key) is replaced.
      const there = await this.store.readSession(storeId, IDLE_MS);
      if (!there || this.open(storeId, there)) return null;
      return this.write(storeId, { storeId, version: there.version, data }, data);
    }
    return (await this.store.replaceSession(storeId, current.version, stored)) ? { storeId, version, data } : null;
  }

  private open(storeId: string, stored: StoredSession): LoadedHeldToken | null {
    const plain = this.cipher.open(stored.data, storeId);
    if (!plain) return null;
    const data = JSON.parse(plain.toString('utf8')) as Partial<HeldToken>;
    if (data.kind !== 'token-source' || typeof data.accessToken !== 'string') return null;
    return { storeId, version: stored.version, data: data as HeldToken };
  }

  private seal(storeId: string, data: HeldToken): Buffer {
    return this.cipher.seal(Buffer.from(JSON.stringify(data)), storeId);
  }
}
