import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { SessionConfig } from '../config/types.js';
import { describeError } from '../errors.js';
import type { SessionStore, UserSessionRecord, UserSessionStore } from '../store/store.js';
import type { SessionCipher } from './cipher.js';
import { userKeyOf } from './session-index.js';
import type { LoadedSession } from './session.js';
import type { Sessions } from './sessions.js';

// A user's sessions as the user and operators see them: listing, ending one or all, the cap
// per user (session.maxPerUser), and the counts. Each session has an entry under its user
// (store/store.ts UserSessionStore): createdAt, lastSeenAt and liveUntil in plaintext for
// the scripts, the user agent and absolute expiry sealed (AAD "user-session:<store id>").
//
// lastSeenAt and the user agent are written at most once a minute per session (TOUCH_MS),
// never on every call: each instance remembers when it may next try, and the store's script
// writes only when the stored lastSeenAt is that old. So the store's lastSeenAt may lag by
// up to a minute, and a session's real idle expiry is at most lastSeenAt + TOUCH_MS +
// idleTimeout: liveUntil adds twice that minute (clock skew between instances) and is when
// the entry surely names a gone session. Counts prune by it.
//
// The id a user sees is an HMAC of the store id under a key derived from the first
// encryption key: it cannot be turned back into the store id (let alone the cookie's id),
// and it changes when that key is rotated (a listing taken before a rotation then ends
// nothing: 404).

export const TOUCH_MS = 60_000;
const TOUCHES_KEPT = 10_000;

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  /** the absolute expiry */
  expiresAt: string;
  userAgent: string | null;
}

interface Meta {
  userAgent?: string;
  absoluteExpiresAt: number;
}

type Warn = (fields: Record<string, unknown>, message: string) => void;

export class UserSessions {
  private readonly handleKey: Buffer;
  /** store id → when this instance may next try to write lastSeenAt */
  private readonly nextTouch = new Map<string, number>();

  constructor(
    private readonly store: SessionStore,
    private readonly sessions: Sessions,
    private readonly cipher: SessionCipher,
    encryptionKey: Buffer,
    private readonly config: Pick<SessionConfig, 'idleTimeoutMs' | 'maxPerUser'>,
    private readonly revoke: (refreshToken: string) => Promise<void>,
    private readonly warn: Warn,
  ) {
    this.handleKey = Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'bff-gateway session handle', 32));
  }

  private get users(): UserSessionStore | undefined {
    return this.store.users;
  }

  /** The opaque id of a session for listings (see above). */
  handleOf(storeId: string): string {
    return createHmac('sha256', this.handleKey).update(storeId).digest().subarray(0, 18).toString('base64url');
  }

  /** A new session: listed under its user; beyond session.maxPerUser the oldest end. */
  async created(session: LoadedSession, userAgent?: string): Promise<void> {
    if (!this.users) return;
    const record = this.record(session, session.data.createdAt, userAgent);
    const evicted = await this.users.addUserSession(userKeyOf(session.data.sub), record, this.config.maxPerUser);
    if (evicted.length > 0) await this.endStoreIds(session.data.sub, evicted, 'session.maxPerUser');
  }

  /** A call on a session: lastSeenAt and user agent, written at most once a minute (in the background). */
  seen(session: LoadedSession, userAgent: string | undefined): void {
    const users = this.users;
    if (!users) return;
    const now = Date.now();
    const next = this.nextTouch.get(session.storeId);
    if (next !== undefined && now < next) return;
    if (this.nextTouch.size >= TOUCHES_KEPT) this.nextTouch.clear();
    this.nextTouch.set(session.storeId, now + TOUCH_MS);
    const record = this.record(session, now, userAgent);
    users.touchUserSession(userKeyOf(session.data.sub), record, TOUCH_MS).then(
      // another instance wrote it: try again a minute after that write
      (stored) => stored !== null && this.nextTouch.set(session.storeId, stored + TOUCH_MS),
      () => this.nextTouch.delete(session.storeId),
    );
  }

  /** The user's live sessions, oldest first; `current` marks the caller's. */
  async list(sub: string, currentStoreId?: string): Promise<SessionView[]> {
    const records = await this.liveRecords(sub);
    return records.map((r) => this.view(r, r.storeId === currentStoreId));
  }

  /** Ends the user's session with this id (refresh token revoked); false when the user has none such. */
  async endByHandle(sub: string, handle: string): Promise<boolean> {
    const records = await this.liveRecords(sub);
    const wanted = Buffer.from(handle);
    const match = records.find((r) => {
      const mine = Buffer.from(this.handleOf(r.storeId));
      return mine.length === wanted.length && timingSafeEqual(mine, wanted);
    });
    if (!match) return false;
    await this.endStoreIds(sub, [match.storeId], 'ended by its user');
    return true;
  }

  /** Ends every session of the user but `except` (refresh tokens revoked); how many ended. */
  async endAll(sub: string, why: string, except?: string): Promise<number> {
    const storeIds = (await this.liveRecords(sub)).map((r) => r.storeId).filter((id) => id !== except);
    await this.endStoreIds(sub, storeIds, why);
    return storeIds.length;
  }

  /** Unlist sessions that were ended elsewhere (logout, back-channel logout). */
  async dropped(sub: string, storeIds: string[]): Promise<void> {
    await this.users?.dropUserSessions(userKeyOf(sub), storeIds);
  }

  async stats(): Promise<{ sessions: number; users: number }> {
    return (await this.users?.sessionStats()) ?? { sessions: 0, users: 0 };
  }

  /** Delete each session first (every instance stops honouring it at once), then revoke its refresh token. */
  private async endStoreIds(sub: string, storeIds: string[], why: string): Promise<void> {
    await Promise.all(storeIds.map(async (storeId) => {
      const session = await this.sessions.loadByStoreId(storeId);
      await this.sessions.delete(storeId);
      const refreshToken = session?.data.tokens.refreshToken;
      if (!refreshToken) return;
      await this.revoke(refreshToken).catch((err: unknown) => {
        // a failed revocation must not keep the session alive: it is deleted already
        this.warn({ err: describeError(err), why }, 'refresh token revocation failed');
      });
    }));
    await this.dropped(sub, storeIds);
  }

  /** The entries within their liveUntil whose sessions still exist (the others are unlisted). */
  private async liveRecords(sub: string): Promise<UserSessionRecord[]> {
    const users = this.users;
    if (!users) return [];
    const records = await users.listUserSessions(userKeyOf(sub));
    const exists = await users.sessionsExist(records.map((r) => r.storeId));
    const gone = records.filter((_, i) => !exists[i]).map((r) => r.storeId);
    if (gone.length > 0) await users.dropUserSessions(userKeyOf(sub), gone);
    return records.filter((_, i) => exists[i]).sort((a, b) => a.createdAt - b.createdAt);
  }

  private record(session: LoadedSession, lastSeenAt: number, userAgent: string | undefined): UserSessionRecord {
    const meta: Meta = { absoluteExpiresAt: session.absoluteExpiresAt };
    if (userAgent) meta.userAgent = userAgent.slice(0, 512);
    return {
      storeId: session.storeId,
      createdAt: session.data.createdAt,
      lastSeenAt,
      liveUntil: Math.min(session.absoluteExpiresAt, lastSeenAt + this.config.idleTimeoutMs + 2 * TOUCH_MS),
      hasUserAgent: meta.userAgent !== undefined,
      meta: this.cipher.seal(Buffer.from(JSON.stringify(meta)), `user-session:${session.storeId}`),
    };
  }

  private view(r: UserSessionRecord, current: boolean): SessionView {
    const plain = this.cipher.open(r.meta, `user-session:${r.storeId}`);
    const meta = plain ? (JSON.parse(plain.toString('utf8')) as Meta) : undefined;
    return {
      id: this.handleOf(r.storeId),
      current,
      createdAt: new Date(r.createdAt).toISOString(),
      lastSeenAt: new Date(r.lastSeenAt).toISOString(),
      expiresAt: new Date(meta?.absoluteExpiresAt ?? r.liveUntil).toISOString(),
      userAgent: meta?.userAgent ?? null,
    };
  }
}
