/** The longest returnTo accepted (the contract's cap; it also keeps the login cookie < 4 KB). */
export const MAX_RETURN_TO_LENGTH = 2048;

/**
 * A returnTo value is accepted only as a path on the gateway's own origin: it starts with a
 * single "/", has no scheme, no authority ("//host", "/\host"), and no control characters.
 * Anything else would make /auth/login an open redirect. It must also go into a Location
 * header as it is: visible ASCII only (0x21-0x7E), so no space, no control character and
 * nothing past ASCII (a browser sends such characters percent-encoded; a raw one would make
 * the redirect fail). It is at most MAX_RETURN_TO_LENGTH characters.
 */
export function isSafeReturnTo(value: string): boolean {
  if (value.length > MAX_RETURN_TO_LENGTH) return false;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return false;
  if (!/^[\x21-\x7e]+$/.test(value) || value.includes('\\')) return false;
  try {
    const base = 'http://gateway.invalid';
    return new URL(value, base).origin === base;
  } catch {
    return false;
  }
}

/**
 * returnTo with `error=<code>` added to its query (before any fragment), its own query kept
 * but for an `error` parameter it already had (the answer names one error, the IdP's).
 */
export function withErrorParam(returnTo: string, code: string): string {
  const hash = returnTo.indexOf('#');
  const fragment = hash < 0 ? '' : returnTo.slice(hash);
  const beforeFragment = hash < 0 ? returnTo : returnTo.slice(0, hash);
  const question = beforeFragment.indexOf('?');
  const path = question < 0 ? beforeFragment : beforeFragment.slice(0, question);
  const query = question < 0 ? '' : beforeFragment.slice(question + 1);
  const kept = query.split('&').filter((pair) => pair !== '' && !isErrorParam(pair));
  kept.push(`error=${encodeURIComponent(code)}`);
  return `${path}?${kept.join('&')}${fragment}`;
}

function isErrorParam(pair: string): boolean {
  const eq = pair.indexOf('=');
  const name = eq < 0 ? pair : pair.slice(0, eq);
  try {
    return decodeURIComponent(name.replaceAll('+', ' ')) === 'error';
  } catch {
    return false;
  }
}
