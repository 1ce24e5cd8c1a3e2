import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

// DPoP (RFC 9449) proofs for the session's tokens. Each session has its own key pair: ES256
// by default, Ed25519 when oidc.dpopAlgs prefers it and the IdP accepts it (dpopAlg below).
// Its private JWK lives in the session data (tokens.dpopKey), so it is sealed with the
// session and every instance signs with the same key; a session keeps the kind of key it
// was made with. Proofs for upstream calls are signed here with node:crypto directly: the
// imported key is cached per key pair and the JWS header is encoded once, so a proof costs
// one signature and a little JSON (see bench/README.md). Proofs for the IdP are made by
// openid-client from the same key (oidc/dpop-handles.ts).

export type DpopAlg = 'Ed25519' | 'ES256';

export type EcDpopKey = JWK & { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };
export type OkpDpopKey = JWK & { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string };
/** A session's DPoP key pair as stored: the private JWK (it holds the public half too). */
export type DpopKey = EcDpopKey | OkpDpopKey;

export function newDpopKey(alg: DpopAlg = 'ES256'): DpopKey {
  const { privateKey } = alg === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' }) as DpopKey;
}

/**
 * The kind of key for new sessions: the first of `preferred` the IdP lists in its
 * dpop_signing_alg_values_supported (Ed25519 signs cheaper per call, ES256 is what every
 * resource server takes: the default); ES256 when it lists none of them or says nothing
 * (RFC 9449 leaves ES256 the common ground).
 */
export function dpopAlg(supported: readonly string[] | undefined, preferred: readonly DpopAlg[]): DpopAlg {
  return preferred.find((alg) => supported?.includes(alg)) ?? 'ES256';
}

/** The JWS alg of a key's proofs: the fully specified "Ed25519" (RFC 9864), as openid-client names it. */
export function algOf(key: DpopKey): DpopAlg {
  return key.kty === 'OKP' ? 'Ed25519' : 'ES256';
}

/** The public half of a session key, as it goes into a proof's header. */
export function publicJwk(key: DpopKey): JWK {
  return key.kty === 'OKP' ? { kty: 'OKP', crv: 'Ed25519', x: key.x } : { kty: 'EC', crv: 'P-256', x: key.x, y: key.y };
}

const b64u = (text: string): string => Buffer.from(text).toString('base64url');

interface Signer {
  privateKey: KeyObject;
  /** the digest for crypto.sign: sha256 for ES256, none (null) for Ed25519 */
  digest: string | null;
  /** base64url of the JWS header (typ, alg, jwk) and a dot: the same for every proof of this key */
  headerDot: string;
  /** what it was made from, checked on every use */
  key: DpopKey;
  /** the last access token this key signed for and its ath: a session sends one token many times */
  lastToken?: string;
  lastAth?: string;
}

/** How many sessions' imported keys are kept (oldest dropped first). */
const MAX_SIGNERS = 10_000;

export interface ProofClaims {
  /** the HTTP method */
  htm: string;
  /** the target URL without query and fragment */
  htu: string;
  /** the access token the proof goes with (its hash becomes ath) */
  accessToken?: string;
  /** a nonce the server asked for (DPoP-Nonce) */
  nonce?: string;
}

/** Signs DPoP proofs; remembers each key's imported form. */
export class DpopProofs {
  private readonly signers = new Map<string, Signer>();

  proof(key: DpopKey, claims: ProofClaims): string {
    const signer = this.signer(key);
    const payload: Record<string, unknown> = {
      // randomUUID draws from node's cached entropy pool: far cheaper than randomBytes per call
      jti: randomUUID(),
      htm: claims.htm,
      htu: claims.htu,
      iat: Math.floor(Date.now() / 1000),
    };
    if (claims.accessToken !== undefined) payload.ath = this.ath(signer, claims.accessToken);
    if (claims.nonce !== undefined) payload.nonce = claims.nonce;
    const input = signer.headerDot + b64u(JSON.stringify(payload));
    // ES256 in JWS wants r||s (IEEE P1363), not DER; Ed25519 signatures are that already
    const signature = sign(signer.digest, Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  private ath(signer: Signer, accessToken: string): string {
    if (signer.lastToken !== accessToken) {
      signer.lastAth = createHash('sha256').update(accessToken).digest('base64url');
      signer.lastToken = accessToken;
    }
    return signer.lastAth!;
  }

  private signer(key: DpopKey): Signer {
    const known = this.signers.get(key.x);
    // the same public x with another private scalar (or another y, or kind) is another key: never mixed up
    if (known && (known.key === key || sameKey(known.key, key))) return known;
    const privateKey = createPrivateKey({ key: { ...key }, format: 'jwk' });
    const alg = algOf(key);
    const headerDot = `${b64u(JSON.stringify({ typ: 'dpop+jwt', alg, jwk: publicJwk(key) }))}.`;
    const signer: Signer = { privateKey, digest: alg === 'ES256' ? 'sha256' : null, headerDot, key };
    if (this.signers.size >= MAX_SIGNERS) this.signers.delete(this.signers.keys().next().value!);
    this.signers.set(key.x, signer);
    return signer;
  }
}

function sameKey(a: DpopKey, b: DpopKey): boolean {
  if (a.kty !== b.kty || a.d !== b.d || a.x !== b.x) return false;
  return a.kty === 'OKP' || a.y === (b as EcDpopKey).y;
}
