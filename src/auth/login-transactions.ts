import type { SessionCipher } from '../session/cipher.js';
import { storeIdOf } from '../session/sessions.js';
import type { SessionStore } from '../store/store.js';

// What /auth/login must remember for /auth/callback: the PKCE verifier, the nonce and where
// to go afterwards. Kept in the store under a hash of the state, sealed, and taken exactly
// once, so a replayed or unknown state finds nothing.

export interface LoginTransaction {
  codeVerifier: string;
  nonce: string;
  returnTo: string;
}

const LOGIN_TTL_MS = 10 * 60_000;

export class LoginTransactions {
  constructor(
    private readonly store: SessionStore,
    private readonly cipher: SessionCipher,
  ) {}

  async begin(state: string, transaction: LoginTransaction): Promise<void> {
    const id = storeIdOf(state);
    const sealed = this.cipher.seal(Buffer.from(JSON.stringify(transaction)), `login:${id}`);
    await this.store.putOnce(id, sealed, LOGIN_TTL_MS);
  }

  /** The transaction of a state, once; null when unknown, expired or already used. */
  async take(state: string): Promise<LoginTransaction | null> {
    const id = storeIdOf(state);
    const sealed = await this.store.takeOnce(id);
    const plain = sealed && this.cipher.open(sealed, `login:${id}`);
    return plain ? (JSON.parse(plain.toString('utf8')) as LoginTransaction) : null;
  }
}
