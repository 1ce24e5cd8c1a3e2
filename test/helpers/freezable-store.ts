import type { SessionStore, StoredSession } from '../../src/store/store.js';

// A real store (Redis) seen through an instance that can freeze like a paused process (a
// long GC pause, SIGSTOP, a VM migration) at one chosen point: right after it took a
// refresh lock and read the session. While frozen, the read's result and every lease
// renewal are held back; thaw() lets them through, late.

export class FreezableStore implements SessionStore {
  private armed = false;
  private lockedOnce = false;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  /** resolves once the instance is frozen */
  frozen: Promise<void>;
  private markFrozen!: () => void;

  get users() {
    return this.inner.users;
  }

  constructor(private readonly inner: SessionStore) {
    this.frozen = new Promise((resolve) => (this.markFrozen = resolve));
  }

  /** Freeze after the next lock this instance takes, at its next session read. */
  freezeAfterNextLock(): void {
    this.armed = true;
  }

  thaw(): void {
    this.open?.();
  }

  async acquireLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const taken = await this.inner.acquireLock(id, owner, leaseMs);
    if (taken && this.armed) {
      this.armed = false;
      this.lockedOnce = true;
    }
    return taken;
  }

  async readSession(id: string, idleMs: number): Promise<StoredSession | null> {
    const result = await this.inner.readSession(id, idleMs);
    if (this.lockedOnce) {
      this.lockedOnce = false;
      this.gate = new Promise((resolve) => (this.open = resolve));
      this.markFrozen();
      await this.gate;
    }
    return result;
  }

  async renewLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    if (this.gate) await this.gate;
    return this.inner.renewLock(id, owner, leaseMs);
  }

  async confirmLock(id: string, owner: string, leaseMs: number): Promise<boolean> {
    if (this.gate) await this.gate;
    return this.inner.confirmLock(id, owner, leaseMs);
  }

  createSession = (...a: Parameters<SessionStore['createSession']>) => this.inner.createSession(...a);
  replaceSession = (...a: Parameters<SessionStore['replaceSession']>) => this.inner.replaceSession(...a);
  deleteSession = (...a: Parameters<SessionStore['deleteSession']>) => this.inner.deleteSession(...a);
  takeOnce = (...a: Parameters<SessionStore['takeOnce']>) => this.inner.takeOnce(...a);
  releaseLock = (...a: Parameters<SessionStore['releaseLock']>) => this.inner.releaseLock(...a);
  addToIndex = (...a: Parameters<SessionStore['addToIndex']>) => this.inner.addToIndex(...a);
  listIndex = (...a: Parameters<SessionStore['listIndex']>) => this.inner.listIndex(...a);
  dropFromIndex = (...a: Parameters<SessionStore['dropFromIndex']>) => this.inner.dropFromIndex(...a);
  claimOnce = (...a: Parameters<SessionStore['claimOnce']>) => this.inner.claimOnce(...a);
  ping = () => this.inner.ping();
  close = () => this.inner.close();
}
