import type { FastifyBaseLogger } from 'fastify';
import { describeError } from '../errors.js';
import type { SessionChangeWatch, SessionStore } from '../store/store.js';
import type { LoadedSession } from './session.js';

// The open WebSockets of this instance, by the store id of the session they were opened
// with, so that a socket ends with its session: the store's change feed names every session
// written or deleted by any instance (logout, back-channel logout, a refresh refused with
// invalid_grant all delete it), and each named session that has sockets here is read again;
// gone means its sockets close with 4401. The absolute timeout has a timer of its own, and
// every idleTimeout/3 each session with sockets is read once (the read slides its idle
// timeout, so an open socket counts as activity). Without a change feed (the memory store)
// that read runs every second instead.

/** The close code and reason the contract names for a socket whose session ended. */
export const SESSION_ENDED = { code: 4401, reason: 'session ended' } as const;
/** RFC 6455 "going away": the gateway shuts down */
export const GOING_AWAY = { code: 1001, reason: 'going away' } as const;

export type SocketEndReason = 'session_ended' | 'shutdown';

/** What the registry needs of an open socket. */
export interface LiveSocket {
  /** close both sides with this code (idempotent) */
  end(code: number, reason: string, why: SocketEndReason): void;
}

/** setTimeout's longest delay; a later expiry is re-armed when this one fires */
const MAX_TIMER_MS = 2 ** 31 - 1;
const NO_FEED_CHECK_MS = 1_000;

export class LiveSockets {
  private readonly all = new Set<LiveSocket>();
  private readonly bySession = new Map<string, { sockets: Set<LiveSocket>; absoluteTimer: NodeJS.Timeout | undefined }>();
  /** sessions being read again (one read at a time per session; true: a change came meanwhile) */
  private readonly checking = new Map<string, boolean>();
  private watch: SessionChangeWatch | undefined;
  private readonly checkTimer: NodeJS.Timeout;

  constructor(
    private readonly store: SessionStore,
    private readonly loadByStoreId: (storeId: string) => Promise<LoadedSession | null>,
    idleTimeoutMs: number,
    private readonly log: FastifyBaseLogger,
  ) {
    const every = store.watchSessionChanges ? Math.max(1_000, Math.floor(idleTimeoutMs / 3)) : NO_FEED_CHECK_MS;
    this.checkTimer = setInterval(() => this.checkAll(), every);
    this.checkTimer.unref();
  }

  get size(): number {
    return this.all.size;
  }

  /** Registers an open socket (with the session it was opened with, if any); returns its removal. */
  add(socket: LiveSocket, session: Pick<LoadedSession, 'storeId' | 'absoluteExpiresAt'> | null): () => void {
    this.all.add(socket);
    if (!session) return () => void this.all.delete(socket);
    this.startWatching();
    const { storeId } = session;
    let entry = this.bySession.get(storeId);
    if (!entry) {
      entry = { sockets: new Set(), absoluteTimer: this.absoluteTimer(storeId, session.absoluteExpiresAt) };
      this.bySession.set(storeId, entry);
    }
    entry.sockets.add(socket);
    return () => {
      this.all.delete(socket);
      const current = this.bySession.get(storeId);
      if (!current?.sockets.delete(socket) || current.sockets.size > 0) return;
      clearTimeout(current.absoluteTimer);
      this.bySession.delete(storeId);
    };
  }

  /** Every socket of the session closes with 4401 "session ended". */
  endSession(storeId: string): void {
    const entry = this.bySession.get(storeId);
    if (!entry) return;
    for (const socket of [...entry.sockets]) socket.end(SESSION_ENDED.code, SESSION_ENDED.reason, 'session_ended');
  }

  /** Every socket closes with 1001 (shutdown). */
  endAll(): void {
    for (const socket of [...this.all]) socket.end(GOING_AWAY.code, GOING_AWAY.reason, 'shutdown');
  }

  async close(): Promise<void> {
    clearInterval(this.checkTimer);
    for (const entry of this.bySession.values()) clearTimeout(entry.absoluteTimer);
    await this.watch?.close();
    this.watch = undefined;
  }

  /** the change feed's connection is opened with the first socket that has a session */
  private startWatching(): void {
    if (this.watch || !this.store.watchSessionChanges) return;
    this.watch = this.store.watchSessionChanges({
      changed: (storeId) => {
        if (this.bySession.has(storeId)) this.check(storeId);
      },
      // changes may have gone unheard (and the first subscription starts with one)
      gap: () => this.checkAll(),
    });
  }

  private absoluteTimer(storeId: string, absoluteExpiresAt: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const entry = this.bySession.get(storeId);
      if (!entry) return;
      if (Date.now() >= absoluteExpiresAt) this.endSession(storeId);
      else entry.absoluteTimer = this.absoluteTimer(storeId, absoluteExpiresAt);
    }, Math.min(MAX_TIMER_MS, Math.max(0, absoluteExpiresAt - Date.now())));
    timer.unref();
    return timer;
  }

  private checkAll(): void {
    for (const storeId of this.bySession.keys()) this.check(storeId);
  }

  /** Reads the session again (which slides its idle timeout); gone: its sockets end. */
  private check(storeId: string): void {
    if (this.checking.has(storeId)) {
      // a read begun before this change may hold what the change replaced: read once more
      this.checking.set(storeId, true);
      return;
    }
    this.checking.set(storeId, false);
    this.loadByStoreId(storeId)
      .then(
        (session) => {
          if (!session) this.endSession(storeId);
        },
        // a store that does not answer ends no socket; the next check or change tells
        (error: unknown) => this.log.debug({ err: describeError(error) }, 'could not re-read the session of an open WebSocket'),
      )
      .finally(() => {
        const again = this.checking.get(storeId);
        this.checking.delete(storeId);
        if (again && this.bySession.has(storeId)) this.check(storeId);
      });
  }
}
