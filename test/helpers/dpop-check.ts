import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, type TestIdp } from './idp.js';

// How a resource server takes DPoP-bound tokens, as RFC 9449 §7 says: the token is
// introspected at the IdP (active, its cnf.jkt), the proof verified with jose against the
// key it embeds (typ dpop+jwt, ES256 or Ed25519), its htm/htu/ath/iat/jti checked, and the
// proof's key must be the one the token is bound to. A bound token sent as a plain bearer
// token is refused. With `requireNonce`, proofs must carry the server's current DPoP-Nonce.
// Used by an HTTP upstream (dpop-upstream.ts) and on a WebSocket upstream's handshakes.

export interface DpopCall {
  method: string;
  /** the proof's alg (undefined: no valid proof) */
  alg?: string;
  url: string;
  /** the token as it came (a test helper may keep it) */
  token?: string;
  /** the thumbprint of the proof's key (undefined: no proof) */
  jkt?: string;
  sub?: string;
  /** the Authorization scheme as it came */
  scheme?: string;
  status: number;
  error?: string;
}

/** What a refused request is answered with. */
export interface DpopRefusal {
  status: 401;
  headers: Record<string, string>;
  body: string;
}

export interface DpopChecker {
  calls: DpopCall[];
  /** make proofs carry this nonce (null: no nonce needed) */
  requireNonce(nonce: string | null): void;
  /** checks one request (recorded in `calls`): its refusal, or undefined when it may pass */
  check(req: IncomingMessage): Promise<{ call: DpopCall; refusal: DpopRefusal | undefined }>;
}

const b64u = (bytes: Buffer) => bytes.toString('base64url');

/** the proof algs accepted (what oidc-provider accepts by default) */
const ALGS = ['ES256', 'Ed25519', 'EdDSA'];

export interface Introspection {
  active: boolean;
  sub?: string;
  aud?: unknown;
  scope?: string;
  cnf?: { jkt?: string };
}

export async function introspect(idp: TestIdp, token: string): Promise<Introspection> {
  const auth = Buffer.from(`${BFF_CLIENT_ID}:${BFF_CLIENT_SECRET}`).toString('base64');
  const response = await fetch(`${idp.issuer}/token/introspection`, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return (await response.json()) as Introspection;
}

export const randomNonce = (): string => b64u(randomBytes(16));

/** `origin`: the server's own origin (proofs' htu must be it plus the request's path) */
export function dpopChecker(idp: TestIdp, origin: () => string): DpopChecker {
  const calls: DpopCall[] = [];
  const seenJti = new Set<string>();
  let nonce: string | null = null;

  const refuse = (call: DpopCall, error: string, scheme = 'DPoP'): DpopRefusal => {
    call.status = 401;
    call.error = error;
    const headers: Record<string, string> = { 'www-authenticate': `${scheme} error="${error}", algs="${ALGS.join(' ')}"`, 'content-type': 'application/json' };
    if (error === 'use_dpop_nonce' && nonce !== null) headers['dpop-nonce'] = nonce;
    return { status: 401, headers, body: JSON.stringify({ error }) };
  };

  const check = async (req: IncomingMessage): Promise<{ call: DpopCall; refusal: DpopRefusal | undefined }> => {
    const call: DpopCall = { method: req.method ?? '', url: req.url ?? '', status: 0 };
    calls.push(call);
    return { call, refusal: await verdict(req, call) };
  };

  const verdict = async (req: IncomingMessage, call: DpopCall): Promise<DpopRefusal | undefined> => {
    const [scheme, token] = (req.headers.authorization ?? '').split(' ');
    if (!token) return refuse(call, 'invalid_token');
    call.token = token;
    if (scheme !== undefined) call.scheme = scheme;
    const info = await introspect(idp, token);
    if (!info.active) return refuse(call, 'invalid_token', scheme ?? 'Bearer');
    const bound = info.cnf?.jkt;
    // a DPoP-bound token without its proof (or as a bearer token) is worth nothing here
    if (bound !== undefined && scheme !== 'DPoP') return refuse(call, 'invalid_token', 'Bearer');
    const proof = req.headers.dpop;
    if (scheme === 'DPoP') {
      if (typeof proof !== 'string') return refuse(call, 'invalid_dpop_proof');
      let payload;
      let jwk;
      try {
        const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ALGS });
        payload = verified.payload;
        jwk = verified.protectedHeader.jwk!;
        call.alg = verified.protectedHeader.alg;
      } catch {
        return refuse(call, 'invalid_dpop_proof');
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const ath = b64u(createHash('sha256').update(token).digest());
      const fresh = typeof payload.iat === 'number' && Math.abs(Date.now() / 1000 - payload.iat) < 60;
      const jti = typeof payload.jti === 'string' ? payload.jti : '';
      if (payload.htm !== req.method || payload.htu !== `${origin()}${path}` || payload.ath !== ath || !fresh || !jti || seenJti.has(jti)) {
        return refuse(call, 'invalid_dpop_proof');
      }
      seenJti.add(jti);
      if (nonce !== null && payload.nonce !== nonce) return refuse(call, 'use_dpop_nonce');
      call.jkt = await calculateJwkThumbprint(jwk);
      if (bound !== call.jkt) return refuse(call, 'invalid_token');
    }
    call.status = 200;
    if (info.sub !== undefined) call.sub = info.sub;
    return undefined;
  };

  return { calls, requireNonce: (value) => { nonce = value; }, check };
}
