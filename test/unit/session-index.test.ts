import { afterAll, describe, expect, it } from 'vitest';
import { SessionCipher } from '../../src/session/cipher.js';
import { Sessions } from '../../src/session/sessions.js';
import type { SessionData } from '../../src/session/session.js';
import { MemoryStore } from '../../src/store/memory.js';

// Back-channel logout ends every session of a sid; a store that fails midway must leave the
// index as it was, so that the IdP's retry ends the rest.

class FlakyDeletes extends MemoryStore {
  failDeletes = false;
  override async deleteSession(id: string): Promise<void> {
    if (this.failDeletes) throw new Error('store away');
    return super.deleteSession(id);
  }
}

const store = new FlakyDeletes();
afterAll(() => store.close());
const sessions = new Sessions(store, new SessionCipher([Buffer.alloc(32, 7)]), {
  idleTimeoutMs: 60_000,
  absoluteTimeoutMs: 3_600_000,
});
const data = (sid: string): SessionData => ({
  sub: 'alice',
  sid,
  claims: {},
  tokens: { accessToken: 'at', refreshToken: 'rt' },
  createdAt: Date.now(),
});

describe('Sessions.endAllOf', () => {
  it('ends every session of a sid', async () => {
    const a = await sessions.create(data('sid-1'));
    const b = await sessions.create(data('sid-1'));
    const other = await sessions.create(data('sid-2'));
    expect(await sessions.endAllOf({ sid: 'sid-1', sub: 'alice' })).toBe(2);
    expect(await sessions.loadByStoreId(a.session.storeId)).toBeNull();
    expect(await sessions.loadByStoreId(b.session.storeId)).toBeNull();
    expect(await sessions.loadByStoreId(other.session.storeId)).not.toBeNull();
  });

  it('keeps the index when the store fails midway, so a retry ends them', async () => {
    const a = await sessions.create(data('sid-3'));
    store.failDeletes = true;
    await expect(sessions.endAllOf({ sid: 'sid-3' })).rejects.toThrow('store away');
    store.failDeletes = false;
    expect(await sessions.loadByStoreId(a.session.storeId)).not.toBeNull();
    expect(await sessions.endAllOf({ sid: 'sid-3' })).toBe(1);
    expect(await sessions.loadByStoreId(a.session.storeId)).toBeNull();
  });
});
