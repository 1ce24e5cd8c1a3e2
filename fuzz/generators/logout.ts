import type { LogoutFixture } from '../logout-fixture.js';
import { LOGOUT_CLIENT, LOGOUT_ISSUER } from '../logout-fixture.js';
import type { Rng } from '../rng.js';
import { withMutations, type Generator } from './text.js';

// JWT-shaped strings for the logout token checks: the fixture's signed tokens as they are
// and mutated; headers and payloads forged from claims that matter (alg none/HS256/unknown,
// kid, crit, b64, jku; iss, aud, iat, exp, events, nonce, sid, sub of odd types) with a
// real, a borrowed or a random signature; parts of different tokens spliced; random bytes.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function logoutTokens(rng: Rng, corpus: readonly string[], fixture: LogoutFixture): Generator {
  const signed = fixture.signed;
  const parts = signed.map((t) => t.split('.'));
  const header = () => {
    const h: Record<string, unknown> = { alg: rng.pick(['RS256', 'ES256', 'none', 'HS256', 'PS256', 'EdDSA', 'RS1', '', 7, null]) };
    if (rng.chance(0.8)) h.kid = rng.pick(['rsa-1', 'ec-1', 'unknown', '', 1, '../x']);
    if (rng.chance(0.1)) h.crit = rng.pick([['exp'], ['b64'], [], 'x']);
    if (rng.chance(0.05)) h.b64 = false;
    if (rng.chance(0.05)) h.jku = 'http://127.0.0.1:1/jwks';
    if (rng.chance(0.05)) h.jwk = { kty: 'oct', k: 'AAAA' };
    if (rng.chance(0.3)) h.typ = rng.pick(['logout+jwt', 'JWT', 'at+jwt']);
    return h;
  };
  const payload = () => {
    const now = Math.floor(Date.now() / 1000);
    const p: Record<string, unknown> = {};
    const maybe = (key: string, values: unknown[]) => { if (rng.chance(0.8)) p[key] = rng.pick(values); };
    maybe('iss', [LOGOUT_ISSUER, 'https://evil.example', '', null, [LOGOUT_ISSUER]]);
    maybe('aud', [LOGOUT_CLIENT, [LOGOUT_CLIENT], ['x'], 1, '', {}]);
    maybe('iat', [now, now - 10, now + 10_000, -1, 1e308, '1', null, 0.5]);
    maybe('jti', ['j', '', 1, null, 'x'.repeat(1000)]);
    maybe('events', [{ [EVENT]: {} }, { [EVENT]: [] }, { [EVENT]: null }, [], 'x', {}]);
    maybe('sid', ['s', '', 1, null, {}]);
    maybe('sub', ['u', '', 1, null]);
    if (rng.chance(0.1)) p.nonce = 'n';
    if (rng.chance(0.1)) p.exp = rng.pick([now - 100, now + 100, 'x']);
    if (rng.chance(0.05)) p.nbf = now + 1000;
    return p;
  };
  const signature = () => rng.pick([() => rng.pick(parts)[2]!, () => rng.chars(B64, rng.int(400)), () => ''])();
  const build = (): string => {
    switch (rng.int(10)) {
      case 0:
      case 1:
        return rng.pick(signed);
      case 2:
      case 3:
      case 4:
        return `${b64(header())}.${b64(payload())}.${signature()}`;
      case 5: {
        const [a, b, c] = [rng.pick(parts), rng.pick(parts), rng.pick(parts)];
        return `${a[0]}.${b[1]}.${c[2]}`;
      }
      case 6:
        return `${rng.pick(parts)[0]}.${b64(payload())}.${rng.pick(parts)[2]}`;
      case 7:
        return Array.from({ length: 5 }, () => rng.chars(B64, rng.int(40))).join('.');
      case 8:
        return `${b64(rng.anyString(20))}.${b64(rng.anyString(40))}.${rng.chars(B64, rng.int(100))}`;
      default:
        return rng.anyString(200);
    }
  };
  return withMutations(rng, corpus, ['.', '-', '_', '=', 'A', 'eyJ', '..', ' ', '+', '/'], build);
}
