import { fastifyCookie } from '@fastify/cookie';
import { randomBytes } from 'node:crypto';
import { COOKIE_NAME, COOKIE_SECRETS } from '../targets.js';
import type { Rng } from '../rng.js';
import { withMutations, type Generator } from './text.js';

// Cookie headers carrying the gateway's cookies: signed by a current or an old secret, by
// an unknown one, tampered with, encoded, quoted, repeated, among other cookies.

export function cookieHeaders(rng: Rng, corpus: readonly string[]): Generator {
  const ids = Array.from({ length: 16 }, () => randomBytes(32).toString('base64url'));
  const secrets = [...COOKIE_SECRETS, 'an-unknown-secret-of-someone-else'];
  const signed = ids.flatMap((id) => secrets.map((secret) => fastifyCookie.sign(id, secret)));
  const names = [COOKIE_NAME, `${COOKIE_NAME}-login`, 'other', COOKIE_NAME.toLowerCase(), ` ${COOKIE_NAME}`, `${COOKIE_NAME}=`];
  const tokens = [';', '; ', '=', ',', '"', '%', '%2e', '.', '\\', ' ', '\t', 'é', '\u0000', ...names];
  const value = (): string => {
    switch (rng.int(6)) {
      case 0:
      case 1:
        return rng.pick(signed);
      case 2:
        return encodeURIComponent(rng.pick(signed));
      case 3:
        return `"${rng.pick(signed)}"`;
      case 4:
        return `${rng.pick(ids)}.${rng.pick(signed).split('.').at(-1)}`;
      default:
        return rng.anyString(100);
    }
  };
  return withMutations(rng, corpus, tokens, () => {
    const count = 1 + rng.int(4);
    const cookies: string[] = [];
    for (let i = 0; i < count; i++) cookies.push(`${rng.pick(names)}=${value()}`);
    return cookies.join(rng.pick(['; ', ';', ', ', ' ;']));
  });
}
