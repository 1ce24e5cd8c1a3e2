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
  release(): Promise<void>;
}

export class RefreshLock {
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
    return {
      release: async () => {
        clearInterval(renewal);
        await this.store.releaseLock(id, owner).catch(() => {});
      },
    };
  }

  /** Wait a poll interval before looking at the session and the lock again. */
  pause(): Promise<void> {
    return sleep(this.options.pollMs);
  }
}
