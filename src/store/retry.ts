import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../errors.js';

/**
 * Runs a store operation again while the store is away (a Redis restart or failover), for
 * at most `forMs`. Used for the one write that must not be dropped: the tokens a refresh
 * just got. The refresh token they replace is already spent at the IdP, so losing them
 * would lose the session.
 */
export async function whileStoreAway<T>(op: () => Promise<T>, forMs: number): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let pauseMs = 50; ; pauseMs = Math.min(pauseMs * 2, 500)) {
    try {
      return await op();
    } catch (e) {
      if (!(e instanceof StoreUnavailableError) || Date.now() + pauseMs > deadline) throw e;
      await sleep(pauseMs);
    }
  }
}
