import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, type TestIdp } from './idp.js';

// A resource server that takes DPoP-bound tokens as RFC 9449 §7 says: the token is
// introspected at the IdP (active, its cnf.jkt), the proof verified with jose against the
// key it embeds (typ dpop+jwt, ES256 or Ed25519), its htm/htu/ath/iat/jti checked, and the proof's key
// must be the one the token is bound to. A bound token sent as a plain bearer token is
// refused. With `requireNonce`, proofs must carry the server's current DPoP-Nonce.

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
  status: number;
  error?: string;
}

export interface DpopUpstream {
  url: string;
  calls: DpopCall[];
  /** make proofs carry this nonce (null: no nonce needed) */
  requireNonce(nonce: string | null): void;
  close(): Promise<void>;
}

const b64u = (bytes: Buffer) => bytes.toString('base64url');

/** the proof algs accepted (what oidc-provider accepts by default) */
const ALGS = ['ES256', 'Ed25519', 'EdDSA'];

export interface Introspection {
  active: boolean;
  sub?: string;
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

export async function startDpopUpstream(idp: TestIdp): Promise<DpopUpstream> {
  const calls: DpopCall[] = [];
  const seenJti = new Set<string>();
  let nonce: string | null = null;
  let origin = '';

  const refuse = (res: ServerResponse, call: DpopCall, error: string, scheme = 'DPoP'): void => {
    call.status = 401;
    call.error = error;
    const headers: Record<string, string> = { 'www-authenticate': `${scheme} error="${error}", algs="${ALGS.join(' ')}"`, 'content-type': 'application/json' };
    if (error === 'use_dpop_nonce' && nonce !== null) headers['dpop-nonce'] = nonce;
    res.writeHead(401, headers).end(JSON.stringify({ error }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const call: DpopCall = { method: req.method ?? '', url: req.url ?? '', status: 0 };
    calls.push(call);
    const [scheme, token] = (req.headers.authorization ?? '').split(' ');
    if (!token) return refuse(res, call, 'invalid_token');
    call.token = token;
    const info = await introspect(idp, token);
    if (!info.active) return refuse(res, call, 'invalid_token', scheme ?? 'Bearer');
    const bound = info.cnf?.jkt;
    // a DPoP-bound token without its proof (or as a bearer token) is worth nothing here
    if (bound !== undefined && scheme !== 'DPoP') return refuse(res, call, 'invalid_token', 'Bearer');
    const proof = req.headers.dpop;
    if (scheme === 'DPoP') {
      if (typeof proof !== 'string') return refuse(res, call, 'invalid_dpop_proof');
      let payload;
      let jwk;
      try {
        const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ALGS });
        payload = verified.payload;
        jwk = verified.protectedHeader.jwk!;
        call.alg = verified.protectedHeader.alg;
      } catch {
        return refuse(res, call, 'invalid_dpop_proof');
      }
      const path = (req.url ?? '/').split('?')[0]!;
      const ath = b64u(createHash('sha256').update(token).digest());
      const fresh = typeof payload.iat === 'number' && Math.abs(Date.now() / 1000 - payload.iat) < 60;
      const jti = typeof payload.jti === 'string' ? payload.jti : '';
      if (payload.htm !== req.method || payload.htu !== `${origin}${path}` || payload.ath !== ath || !fresh || !jti || seenJti.has(jti)) {
        return refuse(res, call, 'invalid_dpop_proof');
      }
      seenJti.add(jti);
      if (nonce !== null && payload.nonce !== nonce) return refuse(res, call, 'use_dpop_nonce');
      call.jkt = await calculateJwkThumbprint(jwk);
      if (bound !== call.jkt) return refuse(res, call, 'invalid_token');
    }
    call.status = 200;
    if (info.sub !== undefined) call.sub = info.sub;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ sub: info.sub ?? null, jkt: call.jkt ?? null, scheme }));
  };

  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => void handle(req, res).catch(() => res.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    calls,
    requireNonce: (value) => { nonce = value; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export const randomNonce = (): string => b64u(randomBytes(16));
