import { describe, expect, it } from 'vitest';
import { SessionCache } from '../../src/session/session-cache.js';
import type { LoadedSession } from '../../src/session/session.js';
import type { SessionChangeListener, SessionStore } from '../../src/store/store.js';

// The cache's rules, with a change feed the test drives: it serves only while the feed is
// live, forgets what a change names, and never takes a read that began before a change.

function feed() {
  let listener: SessionChangeListener | undefined;
  const watch = { live: true, close: async () => {} };
  const store = { watchSessionChanges: (l: SessionChangeListener) => ((listener = l), watch) } as unknown as SessionStore;
  return { store, watch, changed: (id: string) => listener!.changed(id), gap: () => listener!.gap() };
}

const session = (storeId: string, version = 1): LoadedSession => ({
  storeId, version, absoluteExpiresAt: Date.now() + 60_000, idleExpiresAt: Date.now() + 60_000,
  data: { sub: 's', claims: {}, tokens: { accessToken: 'at' }, createdAt: Date.now() },
});

describe('SessionCache', () => {
  it('serves what was put, until a change names it', () => {
    const f = feed();
    const cache = new SessionCache(f.store, 1_000, 10);
    cache.put(session('a'), cache.epoch);
    expect(cache.get('a')?.version).toBe(1);
    f.changed('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('refuses a read that began before a change (it may hold what the change replaced)', () => {
    const f = feed();
    const cache = new SessionCache(f.store, 1_000, 10);
    const before = cache.epoch;
    f.changed('a'); // heard while the read was on its way
    cache.put(session('a'), before);
    expect(cache.get('a')).toBeUndefined();
    cache.put(session('a', 2), cache.epoch);
    expect(cache.get('a')?.version).toBe(2);
  });

  it('forgets everything on a gap, and serves nothing while the feed is down', () => {
    const f = feed();
    const cache = new SessionCache(f.store, 1_000, 10);
    cache.put(session('a'), cache.epoch);
    f.gap();
    expect(cache.get('a')).toBeUndefined();
    f.watch.live = false;
    cache.put(session('b'), cache.epoch);
    expect(cache.get('b')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const f = feed();
    const cache = new SessionCache(f.store, 1_000, 2);
    for (const id of ['a', 'b', 'c']) cache.put(session(id), cache.epoch);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBeDefined();
  });
});
