import type { IncomingHttpHeaders } from 'node:http';
import { DpopProofs, type DpopKey } from '../oidc/dpop.js';

// DPoP on upstream calls (RFC 9449 §7): a call on a DPoP-bound session token is sent with
// `Authorization: DPoP <token>` and a fresh proof for that exact request (htm, htu = the
// upstream URL without query, iat, jti, ath = the token's hash, and the upstream's last
// DPoP-Nonce). An upstream's `401 WWW-Authenticate: DPoP error="use_dpop_nonce"` with a
// DPoP-Nonce header is answered once: the call is replayed with that nonce when it can be.

const proofs = new DpopProofs();

/** One route's upstream as a DPoP resource server: where proofs point, the nonce it asked for. */
export class UpstreamDpop {
  private readonly origin: string;
  private nonce: string | undefined;

  constructor(upstreamUrl: string) {
    this.origin = new URL(upstreamUrl).origin;
  }

  /**
   * Sets Authorization and DPoP for a call of `method` on the upstream `path` (query allowed).
   * Returns the nonce the proof carries.
   */
  sign(headers: IncomingHttpHeaders, key: DpopKey, method: string, path: string, token: string): string | undefined {
    const query = path.indexOf('?');
    const htu = this.origin + (query === -1 ? path : path.slice(0, query));
    const nonce = this.nonce;
    headers.authorization = `DPoP ${token}`;
    const claims = { htm: method, htu, accessToken: token };
    headers.dpop = proofs.proof(key, nonce === undefined ? claims : { ...claims, nonce });
    return nonce;
  }

  /**
   * Notes the upstream's DPoP-Nonce (it goes into the next proofs). True when the answer is a
   * use_dpop_nonce challenge naming another nonce than the proof had: worth one replay.
   */
  heard(statusCode: number, headers: IncomingHttpHeaders, sentNonce: string | undefined): boolean {
    const nonce = headers['dpop-nonce'];
    if (typeof nonce !== 'string' || nonce === '') return false;
    this.nonce = nonce;
    return statusCode === 401 && nonce !== sentNonce && isNonceChallenge(headers);
  }
}

/** `WWW-Authenticate: DPoP error="use_dpop_nonce"` (RFC 9449 §9) */
function isNonceChallenge(headers: IncomingHttpHeaders): boolean {
  const value = headers['www-authenticate'];
  const challenges = Array.isArray(value) ? value.join(', ') : value ?? '';
  return /\bdpop\b/i.test(challenges) && /\berror\s*=\s*"?use_dpop_nonce"?/i.test(challenges);
}
