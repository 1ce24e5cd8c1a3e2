import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, type LogoutTokenOptions } from '../src/oidc/logout-token.js';

// An IdP's side of back-channel logout for the fuzzer: an RSA and an EC key, their JWKS
// served on 127.0.0.1 (so the verifier is the gateway's own, remote JWKS and all), and a
// pool of tokens signed with them: valid ones, and ones whose claims are wrong.

export const LOGOUT_ISSUER = 'https://idp.fuzz.example';
export const LOGOUT_CLIENT = 'fuzz-client';

export interface LogoutFixture {
  options: LogoutTokenOptions;
  /** jti → what a valid token of the pool names */
  valid: Map<string, { sid?: string; sub?: string }>;
  /** every signed token of the pool, valid or not */
  signed: string[];
  close(): Promise<void>;
}

export async function startLogoutFixture(): Promise<LogoutFixture> {
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  const body = JSON.stringify({ keys });
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const valid = new Map<string, { sid?: string; sub?: string }>();
  const signed: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  const event = { [BACKCHANNEL_LOGOUT_EVENT]: {} };
  const good: JWTPayload = { iss: LOGOUT_ISSUER, aud: LOGOUT_CLIENT, iat: now, events: event };
  const variants: [JWTPayload, boolean][] = [
    [{ ...good, sid: 'sid-a' }, true],
    [{ ...good, sub: 'user-a' }, true],
    [{ ...good, sid: 'sid-b', sub: 'user-b', aud: [LOGOUT_CLIENT, 'other'] }, true],
    [{ ...good, sid: 'sid-c', exp: now + 600 }, true],
    [{ ...good, sid: 'x', nonce: 'n' }, false],
    [{ ...good, sid: 'x', events: { other: {} } }, false],
    [{ ...good, sid: 'x', events: { [BACKCHANNEL_LOGOUT_EVENT]: [] } }, false],
    [{ ...good, sid: '', sub: '' }, false],
    [{ ...good, sid: 'x', aud: 'another-client' }, false],
    [{ ...good, sid: 'x', iss: 'https://evil.example' }, false],
    [{ ...good, sid: 'x', iat: now - 86_400 * 2 }, false],
    [{ ...good, sid: 'x', iat: now + 86_400 }, false],
    [{ ...good, sid: 'x', exp: now - 600 }, false],
    [{ ...good, sid: 7 as unknown as string }, false],
  ];
  let n = 0;
  for (const [payload, isValid] of variants) {
    for (const [alg, key, kid] of [['RS256', rsa.privateKey, 'rsa-1'], ['ES256', ec.privateKey, 'ec-1']] as const) {
      const jti = `jti-${n++}`;
      const { iat, ...claims } = payload;
      let jwt = new SignJWT({ ...claims, jti }).setProtectedHeader({ alg, kid, typ: 'logout+jwt' });
      if (iat !== undefined) jwt = jwt.setIssuedAt(iat);
      signed.push(await jwt.sign(key));
      const { sid, sub } = payload as { sid?: string; sub?: string };
      if (isValid) valid.set(jti, { ...(sid ? { sid } : {}), ...(sub ? { sub } : {}) });
    }
  }
  const options: LogoutTokenOptions = {
    issuer: LOGOUT_ISSUER,
    clientId: LOGOUT_CLIENT,
    jwksUri: `http://127.0.0.1:${port}/jwks`,
    // the pool is signed once, and a run takes minutes
    maxAgeSeconds: 86_400,
    clockToleranceSeconds: 5,
  };
  return {
    options,
    valid,
    signed,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
