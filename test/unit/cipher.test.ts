import { describe, expect, it } from 'vitest';
import { SessionCipher } from '../../src/session/cipher.js';

const k1 = Buffer.alloc(32, 1);
const k2 = Buffer.alloc(32, 2);
const plain = Buffer.from('{"tokens":{"accessToken":"secret-access-token"}}');

describe('SessionCipher', () => {
  it('round-trips and never contains the plaintext', () => {
    const c = new SessionCipher([k1]);
    const sealed = c.seal(plain, 'id-1');
    expect(sealed.includes(Buffer.from('secret-access-token'))).toBe(false);
    expect(c.open(sealed, 'id-1')?.equals(plain)).toBe(true);
  });

  it('uses a fresh IV each time', () => {
    const c = new SessionCipher([k1]);
    expect(c.seal(plain, 'id').equals(c.seal(plain, 'id'))).toBe(false);
  });

  it('refuses a value moved to another id (AAD)', () => {
    const c = new SessionCipher([k1]);
    expect(c.open(c.seal(plain, 'id-1'), 'id-2')).toBeNull();
  });

  it('refuses any flipped bit, and short or empty input', () => {
    const c = new SessionCipher([k1]);
    const sealed = c.seal(plain, 'id');
    for (let i = 0; i < sealed.length; i += 7) {
      const bad = Buffer.from(sealed);
      bad[i] = bad[i]! ^ 0x01;
      expect(c.open(bad, 'id')).toBeNull();
    }
    expect(c.open(Buffer.alloc(0), 'id')).toBeNull();
    expect(c.open(sealed.subarray(0, 20), 'id')).toBeNull();
  });

  it('rotates: the first key seals, every key opens, a retired key no longer opens', () => {
    const old = new SessionCipher([k1]).seal(plain, 'id');
    const rotated = new SessionCipher([k2, k1]);
    expect(rotated.open(old, 'id')?.equals(plain)).toBe(true);
    const fresh = rotated.seal(plain, 'id');
    expect(new SessionCipher([k2]).open(fresh, 'id')?.equals(plain)).toBe(true);
    expect(new SessionCipher([k2]).open(old, 'id')).toBeNull();
  });

  it('insists on 32-byte keys', () => {
    expect(() => new SessionCipher([Buffer.alloc(16)])).toThrow();
    expect(() => new SessionCipher([])).toThrow();
  });
});
