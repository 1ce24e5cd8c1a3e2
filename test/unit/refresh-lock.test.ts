import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from '../../src/store/memory.js';
import { RefreshLock } from '../../src/tokens/refresh-lock.js';

// Shutdown and the locks of refreshes still in flight: wait for them, but never hand over
// a lock whose holder may already have spent the refresh token.

const store = new MemoryStore();
afterAll(() => store.close());
const locks = () => new RefreshLock(store, { leaseMs: 60_000, pollMs: 10 });

describe('RefreshLock.drain', () => {
  it('waits for a refresh in flight to release its lock', async () => {
    const lock = locks();
    const held = await lock.tryAcquire('finishing');
    expect(held).not.toBeNull();
    const finished = sleep(50).then(() => held!.release());
    await lock.drain(5_000);
    await finished;
    expect(await store.acquireLock('finishing', 'next', 1_000)).toBe(true);
  });

  it('leaves the lock of a refresh still running after the wait to its lease', async () => {
    const lock = locks();
    expect(await lock.tryAcquire('stuck')).not.toBeNull();
    await lock.drain(30);
    expect(await store.acquireLock('stuck', 'next', 1_000)).toBe(false);
  });

  it('returns at once when no refresh is in flight', async () => {
    const lock = locks();
    const held = await lock.tryAcquire('done');
    await held!.release();
    const started = Date.now();
    await lock.drain(60_000);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
