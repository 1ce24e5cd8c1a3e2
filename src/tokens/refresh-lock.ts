import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionStore } from '../store/store.js';

// The store half of single-flight refresh: one holder per session across every instance.
// The lease is renewed while the holder works, so a slow token endpoint cannot let a second
// instance in; a holder that dies stops renewing and its lease runs out by itself.

export interface LockOptions {
  leaseMs: number;
  /** how often a waiting instance looks again */
  pollMs: number;
}

export interface HeldLock {
  /**
   * Whether the lease is still ours (and extends it). Checked right before a refresh token
   * is spent: a holder that was paused past its lease must not present a token that the
   * next holder may already have rotated.
   */
  stillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

export class RefreshLock {
  /** locks this process holds now (refreshes in flight), each with the way to stop its renewal */
  private readonly held = new Map<HeldLock, () => void>();

  constructor(
    private readonly store: SessionStore,
    private readonly options: LockOptions,
  ) {}

  /** Take the lock, or null when another holder has it. */
  async tryAcquire(id: string): Promise<HeldLock | null> {
    const owner = randomBytes(16).toString('base64url');
    const { leaseMs } = this.options;
    if (!(await this.store.acquireLock(id, owner, leaseMs))) return null;
    const renewal = setInterval(() => {
      // store away: the lease runs out by itself, and the session write's CAS still guards
      this.store.renewLock(id, owner, leaseMs).catch(() => {});
    }, Math.max(10, Math.floor(leaseMs / 3)));
    renewal.unref();
    const lock: HeldLock = {
      stillHeld: () => this.store.confirmLock(id, owner, leaseMs).catch(() => false),
      release: async () => {
        clearInterval(renewal);
        this.held.delete(lock);
        await this.store.releaseLock(id, owner).catch(() => {});
      },
    };
    this.held.set(lock, () => clearInterval(renewal));
    return lock;
  }

  /**
   * Shutdown: give the refreshes in flight up to `waitMs` to finish, write their tokens and
   * release their locks. A lock still held after that is NOT released: its holder may have
   * spent the refresh token already, and a second holder would present it again. Its renewal
   * stops, so its lease runs out by itself.
   */
  async drain(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (this.held.size > 0 && Date.now() < deadline) await sleep(10);
    for (const stopRenewal of this.held.values()) stopRenewal();
    this.held.clear();
  }

  /** Wait a poll interval before looking at the session and the lock again. */
  pause(): Promise<void> {
    return sleep(this.options.pollMs);
  }
}
