import { validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LoginTransactions } from '../../src/auth/login-transactions.js';
import { isSafeReturnTo, MAX_RETURN_TO_LENGTH, withErrorParam } from '../../src/auth/return-to.js';
import { SessionCipher } from '../../src/session/cipher.js';
import { MemoryStore } from '../../src/store/memory.js';

const cipher = new SessionCipher([Buffer.alloc(32, 3)]);
const logins = (ttlMs?: number) => new LoginTransactions(new MemoryStore(), cipher, ttlMs);

/** visible ASCII, now and then anything (controls, spaces, non-Latin-1, lone surrogates) */
const mostlyVisibleAscii = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

const locationSafe = (value: string) => {
  try {
    validateHeaderValue('location', value);
    return true;
  } catch {
    return false;
  }
};

describe('returnTo', () => {
  it('accepts only values that go into a Location header as they are, up to 2048 characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: mostlyVisibleAscii, maxLength: 2100 }), (tail) => {
        const value = `/${tail}`;
        if (isSafeReturnTo(value)) {
          expect(value.length).toBeLessThanOrEqual(MAX_RETURN_TO_LENGTH);
          expect(locationSafe(value)).toBe(true);
          expect(locationSafe(withErrorParam(value, 'login_required'))).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
    expect(isSafeReturnTo(`/${'a'.repeat(2047)}`)).toBe(true);
    expect(isSafeReturnTo(`/${'a'.repeat(2048)}`)).toBe(false);
    expect(isSafeReturnTo('/%E6%97%A5?q=%C3%A9#x')).toBe(true);
    for (const bad of ['/日本', '/café', '/a b', '/a\u0000', '//evil', '/\\evil', 'https://evil/', '']) {
      expect(isSafeReturnTo(bad)).toBe(false);
    }
  });

  it('adds error=<code> to the query, keeping the rest and the fragment', () => {
    expect(withErrorParam('/p', 'login_required')).toBe('/p?error=login_required');
    expect(withErrorParam('/p?', 'x')).toBe('/p?error=x');
    expect(withErrorParam('/p?a=1&b=%20', 'x')).toBe('/p?a=1&b=%20&error=x');
    expect(withErrorParam('/p?error=old&a=1#f?g', 'x')).toBe('/p?a=1&error=x#f?g');
    expect(withErrorParam('/p#f', 'a b&c')).toBe('/p?error=a%20b%26c#f');
  });
});

describe('LoginTransactions', () => {
  it('seals a login into a cookie value that opens to the same login', () => {
    const { transaction, sealed } = logins().begin('/back?x=1', true);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('back');
    expect(logins().open(sealed)).toEqual(transaction);
    expect(transaction.state).toHaveLength(43);
    expect(new Set([transaction.state, transaction.codeVerifier, transaction.nonce]).size).toBe(3);
  });

  it('keeps a 2048-character returnTo under 3 KB', () => {
    expect(logins().begin(`/${'"'.repeat(2047)}`, false).sealed.length).toBeLessThan(3000);
  });

  it('refuses a tampered, expired, or otherwise sealed value', () => {
    const { sealed } = logins().begin('/', false);
    const flipped = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`;
    expect(logins().open(flipped)).toBeNull();
    expect(logins().open('')).toBeNull();
    expect(logins().open('not base64 !')).toBeNull();
    expect(logins(-1).open(logins(-1).begin('/', false).sealed)).toBeNull();
    // a value sealed for anything else (a session under its store id) does not open as a login
    const other = cipher.seal(Buffer.alloc(200, 1), 'some-store-id').toString('base64url');
    expect(logins().open(other)).toBeNull();
  });

  it('claims a state once', async () => {
    const l = logins();
    const { transaction } = l.begin('/', false);
    expect(await l.claim(transaction)).toBe(true);
    expect(await l.claim(transaction)).toBe(false);
  });
});
