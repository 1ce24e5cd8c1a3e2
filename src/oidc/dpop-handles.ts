import { webcrypto } from 'node:crypto';
import * as oidc from 'openid-client';
import { publicJwk, type DpopKey } from './dpop.js';

// openid-client's DPoP handles for the token requests of sessions (code exchange, refresh,
// token exchange). A handle signs proofs and remembers the DPoP-Nonce the IdP last gave
// (openid-client answers a use_dpop_nonce error once with it and repeats the request), so
// one handle is kept per session key, for the next refresh to start with the nonce.

const MAX_HANDLES = 1_000;

export class DpopHandles {
  private readonly handles = new Map<string, { d: string; handle: Promise<oidc.DPoPHandle> }>();

  constructor(private readonly config: oidc.Configuration) {}

  handle(key: DpopKey): Promise<oidc.DPoPHandle> {
    const known = this.handles.get(key.x);
    if (known && known.d === key.d) return known.handle;
    const handle = this.create(key);
    if (this.handles.size >= MAX_HANDLES) this.handles.delete(this.handles.keys().next().value!);
    this.handles.set(key.x, { d: key.d, handle });
    handle.catch(() => this.handles.delete(key.x));
    return handle;
  }

  private async create(key: DpopKey): Promise<oidc.DPoPHandle> {
    // WebCrypto's Ed25519 key makes openid-client sign with the JWS alg "Ed25519"
    const algorithm = key.kty === 'OKP' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
    const privateKey = await webcrypto.subtle.importKey('jwk', { ...key }, algorithm, false, ['sign']);
    const publicKey = await webcrypto.subtle.importKey('jwk', { ...publicJwk(key) }, algorithm, true, ['verify']);
    return oidc.getDPoPHandle(this.config, { privateKey, publicKey });
  }
}
