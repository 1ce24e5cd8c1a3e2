import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../errors.js';

/**
 * Runs a store operation again while the store is away (a Redis restart or failover), for
 * at most `forMs`. Used for the one write that must not be dropped: the tokens a refresh
 * just got. The refresh token they replace is already spent at the IdP, so losing them
 * would lose the session. `onStoreAway` hears of the first failure (the caller may stop
 * waiting then; the retries go on). Tries are at most 100 ms apart, so the write lands
 * right after the store is back, before anyone else can act on the old tokens.
 */
export async function whileStoreAway<T>(
  op: () => Promise<T>,
  forMs: number,
  onStoreAway?: (error: StoreUnavailableError) => void,
): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let pauseMs = 25; ; pauseMs = Math.min(pauseMs * 2, 100)) {
    try {
      return await op();
    } catch (e) {
      if (!(e instanceof StoreUnavailableError) || Date.now() + pauseMs > deadline) throw e;
      onStoreAway?.(e);
      onStoreAway = undefined;
      await sleep(pauseMs);
    }
  }
}
