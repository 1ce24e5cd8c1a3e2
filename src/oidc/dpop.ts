import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

// DPoP (RFC 9449) proofs for the session's tokens. Each session has its own ES256 key pair;
// its private JWK lives in the session data (tokens.dpopKey), so it is sealed with the
// session and every instance signs with the same key. Proofs for upstream calls are signed
// here with node:crypto directly: the imported key is cached per key pair and the JWS header
// is encoded once, so a proof costs one ECDSA signature and a hash (see bench/README.md).
// Proofs for the IdP are made by openid-client from the same key (oidc/dpop-handles.ts).

/** A session's DPoP key pair as stored: the private JWK (EC P-256, so it holds x and y too). */
export type DpopKey = JWK & { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };

export function newDpopKey(): DpopKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' }) as DpopKey;
}

export function isDpopKey(value: unknown): value is DpopKey {
  const jwk = value as Partial<DpopKey> | null;
  return typeof jwk === 'object' && jwk !== null && jwk.kty === 'EC' && jwk.crv === 'P-256'
    && typeof jwk.x === 'string' && typeof jwk.y === 'string' && typeof jwk.d === 'string';
}

/** The public half of a session key, as it goes into a proof's header. */
export function publicJwk(key: DpopKey): JWK {
  return { kty: 'EC', crv: 'P-256', x: key.x, y: key.y };
}

const b64u = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64url');

interface Signer {
  privateKey: KeyObject;
  /** base64url of the JWS header (typ, alg, jwk), the same for every proof of this key */
  header: string;
  /** what it was made from, checked on every use */
  d: string;
  y: string;
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
    const input = `${signer.header}.${b64u(JSON.stringify(payload))}`;
    // JWS ES256 wants r||s (IEEE P1363), not DER
    const signature = sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64u(signature)}`;
  }

  private ath(signer: Signer, accessToken: string): string {
    if (signer.lastToken !== accessToken) {
      signer.lastAth = b64u(createHash('sha256').update(accessToken).digest());
      signer.lastToken = accessToken;
    }
    return signer.lastAth!;
  }

  private signer(key: DpopKey): Signer {
    const known = this.signers.get(key.x);
    // the same public key with another private scalar is another key: never mixed up
    if (known && known.d === key.d && known.y === key.y) return known;
    const privateKey = createPrivateKey({ key: { ...key }, format: 'jwk' });
    const header = b64u(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk(key) }));
    const signer: Signer = { privateKey, header, d: key.d, y: key.y };
    if (this.signers.size >= MAX_SIGNERS) this.signers.delete(this.signers.keys().next().value!);
    this.signers.set(key.x, signer);
    return signer;
  }
}
