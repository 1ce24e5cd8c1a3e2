/**
 * A returnTo value is accepted only as a path on the gateway's own origin: it starts with a
 * single "/", has no scheme, no authority ("//host", "/\host"), and no control characters.
 * Anything else would make /auth/login an open redirect.
 */
export function isSafeReturnTo(value: string): boolean {
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return false;
  try {
    const base = 'http://gateway.invalid';
    return new URL(value, base).origin === base;
  } catch {
    return false;
  }
}
