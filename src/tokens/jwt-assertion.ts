import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { JwtAssertionConfig } from '../config/types.js';

// The assertion of the JWT bearer grant (RFC 7523 §2.1, §3) a token source signs for itself,
// as Oracle IDCS's "JWT user assertion" flow takes it: sub = the account the token is for,
// aud = the authorization server, iss = the client id when the source has one (IDCS wants
// the client there), else the subject (a self-issued assertion); exp = now + lifetime, a
// fresh jti each time. Signed with the source's private JWK (its alg, else RS256 for RSA,
// ES256 for P-256 keys); the key is read once.

type SigningKey = Awaited<ReturnType<typeof importJWK>>;

export class JwtAssertions {
  private key: Promise<{ key: SigningKey; alg: string; kid?: string }> | undefined;

  constructor(
    private readonly settings: JwtAssertionConfig,
    private readonly clientId: string | undefined,
  ) {}

  async sign(): Promise<string> {
    const { key, alg, kid } = await (this.key ??= this.load());
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader(kid === undefined ? { alg, typ: 'JWT' } : { alg, kid, typ: 'JWT' })
      .setIssuer(this.clientId ?? this.settings.subject)
      .setSubject(this.settings.subject)
      .setAudience(this.settings.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.max(1, Math.floor(this.settings.lifetimeMs / 1000)))
      .setJti(randomUUID())
      .sign(key);
  }

  private async load(): Promise<{ key: SigningKey; alg: string; kid?: string }> {
    const jwk = JSON.parse(await readFile(this.settings.keyFile, 'utf8')) as JWK;
    const alg = jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : jwk.kty === 'OKP' ? 'EdDSA' : 'RS256');
    const key = await importJWK(jwk, alg);
    return jwk.kid === undefined ? { key, alg } : { key, alg, kid: jwk.kid };
  }
}
