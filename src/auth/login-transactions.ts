import { randomBytes } from 'node:crypto';
import type { SessionCipher } from '../session/cipher.js';
import { storeIdOf } from '../session/sessions.js';
import type { SessionStore } from '../store/store.js';
import { isSafeReturnTo } from './return-to.js';

// What /auth/login must remember for /auth/callback (state, PKCE verifier, nonce, where to
// go afterwards, whether the login is silent, until when it is valid), sealed into the login
// cookie itself: starting a login writes nothing to the store, so anonymous calls cannot
// fill it. The store sees a login only at a callback whose code the IdP exchanged: then
// the state is claimed once (`claim`), so a state never opens two sessions.
//
// The sealed value is a fixed binary layout rather than JSON, so quotes in a returnTo are
// not escaped into more bytes (a 2048-character returnTo gives a ~2.9 KB cookie value):
//   version(1) | flags(1) | expiresAt(6, ms) | state(32) | verifier(32) | nonce(32) | returnTo (ASCII)

export interface LoginTransaction {
  state: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  /** prompt=none: IdP errors go back to returnTo as `?error=` instead of a 400 */
  silent: boolean;
  /** epoch ms */
  expiresAt: number;
}

export const LOGIN_TTL_MS = 10 * 60_000;
/** the associated data of a sealed login: it opens as nothing else, nothing else opens as it */
const AAD = 'bff-login-transaction:v1';
const VERSION = 1;
const SILENT = 1;
const RANDOM = 32;
const HEADER = 1 + 1 + 6;
const FIXED = HEADER + 3 * RANDOM;

export class LoginTransactions {
  constructor(
    private readonly store: SessionStore,
    private readonly cipher: SessionCipher,
    private readonly ttlMs = LOGIN_TTL_MS,
  ) {}

  /** A new login with fresh random state, verifier and nonce, and its sealed cookie value. */
  begin(returnTo: string, silent: boolean): { transaction: LoginTransaction; sealed: string } {
    const random = randomBytes(3 * RANDOM);
    const expiresAt = Date.now() + this.ttlMs;
    const plain = Buffer.alloc(FIXED + Buffer.byteLength(returnTo, 'latin1'));
    plain.writeUInt8(VERSION, 0);
    plain.writeUInt8(silent ? SILENT : 0, 1);
    plain.writeUIntBE(expiresAt, 2, 6);
    random.copy(plain, HEADER);
    plain.write(returnTo, FIXED, 'latin1');
    const part = (i: number) => random.subarray(i * RANDOM, (i + 1) * RANDOM).toString('base64url');
    const transaction = { state: part(0), codeVerifier: part(1), nonce: part(2), returnTo, silent, expiresAt };
    return { transaction, sealed: this.cipher.seal(plain, AAD).toString('base64url') };
  }

  /** The login a cookie value holds; null when it is not one we sealed, or has expired. */
  open(sealed: string): LoginTransaction | null {
    const plain = this.cipher.open(Buffer.from(sealed, 'base64url'), AAD);
    if (!plain || plain.length < FIXED || plain.readUInt8(0) !== VERSION) return null;
    const expiresAt = plain.readUIntBE(2, 6);
    if (expiresAt <= Date.now()) return null;
    const returnTo = plain.subarray(FIXED).toString('latin1');
    if (!isSafeReturnTo(returnTo)) return null;
    const part = (i: number) => plain.subarray(HEADER + i * RANDOM, HEADER + (i + 1) * RANDOM).toString('base64url');
    return {
      state: part(0),
      codeVerifier: part(1),
      nonce: part(2),
      returnTo,
      silent: (plain.readUInt8(1) & SILENT) !== 0,
      expiresAt,
    };
  }

  /**
   * True only the first time a login's state is claimed. The key is a hash of the state and
   * lives until the transaction would have expired anyway (after that `open` refuses it).
   */
  claim(transaction: LoginTransaction): Promise<boolean> {
    const ttlMs = Math.max(1_000, transaction.expiresAt - Date.now());
    return this.store.claimOnce(`login:${storeIdOf(transaction.state)}`, ttlMs);
  }
}
