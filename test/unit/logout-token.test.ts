import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutTokenError, LogoutTokenVerifier } from '../../src/oidc/logout-token.js';

// Every check of Back-Channel Logout 1.0 §2.6, one forged variant each, against a JWKS
// served over HTTP on loopback (the verifier fetches it as it would the IdP's).

const ISSUER = 'http://idp.test';
const CLIENT = 'bff';
let server: Server;
let jwksUri: string;
let key: CryptoKey;
let otherKey: CryptoKey;
let verifier: LogoutTokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const publicKey = pair.publicKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  verifier = new LogoutTokenVerifier({ issuer: ISSUER, clientId: CLIENT, jwksUri, maxAgeSeconds: 120, clockToleranceSeconds: 5 });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const validClaims = (): JWTPayload => ({ sid: 'idp-session-1', sub: 'alice', jti: crypto.randomUUID(), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });

function sign(claims: JWTPayload, opts: { signWith?: CryptoKey; iat?: number; aud?: string; iss?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'logout+jwt' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? CLIENT)
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .sign(opts.signWith ?? key);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function rejected(token: string | Promise<string>): Promise<string> {
  const error = await verifier.verify(await token).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(LogoutTokenError);
  return (error as Error).message;
}

describe('logout token verification', () => {
  it('accepts a valid token and returns its sid, sub and jti', async () => {
    const claims = validClaims();
    await expect(verifier.verify(await sign(claims))).resolves.toEqual({ jti: claims.jti, sid: 'idp-session-1', sub: 'alice' });
  });

  it('accepts a token with only a sub', async () => {
    const { sid: _sid, ...claims } = validClaims();
    await expect(verifier.verify(await sign(claims))).resolves.toMatchObject({ sub: 'alice' });
  });

  it('rejects a signature by another key', async () => {
    await rejected(sign(validClaims(), { signWith: otherKey }));
  });

  it('rejects alg none', async () => {
    const iat = Math.floor(Date.now() / 1000);
    await rejected(`${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64({ ...validClaims(), iss: ISSUER, aud: CLIENT, iat })}.`);
  });

  it('rejects a nonce', async () => {
    expect(await rejected(sign({ ...validClaims(), nonce: 'n' }))).toMatch(/nonce/);
  });

  it('rejects a missing or malformed events claim', async () => {
    const { events: _events, ...noEvents } = validClaims();
    expect(await rejected(sign(noEvents))).toMatch(/event/);
    expect(await rejected(sign({ ...validClaims(), events: { [BACKCHANNEL_LOGOUT_EVENT]: 'yes' } }))).toMatch(/event/);
    expect(await rejected(sign({ ...validClaims(), events: { 'http://other/event': {} } }))).toMatch(/event/);
  });

  it('rejects the wrong audience and the wrong issuer', async () => {
    await rejected(sign(validClaims(), { aud: 'someone-else' }));
    await rejected(sign(validClaims(), { iss: 'http://evil.test' }));
  });

  it('rejects a stale iat and a missing jti', async () => {
    await rejected(sign(validClaims(), { iat: Math.floor(Date.now() / 1000) - 600 }));
    const { jti: _jti, ...noJti } = validClaims();
    await rejected(sign(noJti));
  });

  it('rejects a token naming neither sid nor sub', async () => {
    const { sid: _sid, sub: _sub, ...claims } = validClaims();
    expect(await rejected(sign(claims))).toMatch(/neither sid nor sub/);
  });

  it('rejects garbage', async () => {
    await rejected('not.a.jwt');
  });

  it('does not call an unreachable JWKS the token\'s fault', async () => {
    const offline = new LogoutTokenVerifier({ issuer: ISSUER, clientId: CLIENT, jwksUri: 'http://127.0.0.1:9/jwks', maxAgeSeconds: 120, clockToleranceSeconds: 5 });
    const error = await offline.verify(await sign(validClaims())).then(() => undefined, (e: unknown) => e);
    expect(error).toBeDefined();
    expect(error).not.toBeInstanceOf(LogoutTokenError);
  });
});
