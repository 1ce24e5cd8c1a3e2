// An upstream must not set or clear the gateway's own cookies (the session and the login
// cookie): that would log users out, or plant a session of the upstream's choosing. Such
// Set-Cookie lines are dropped; the others pass.

/** A Set-Cookie line's cookie name (what comes before the first "=", trimmed). */
export function setCookieName(line: string): string {
  const eq = line.indexOf('=');
  return (eq === -1 ? '' : line.slice(0, eq)).trim();
}

/**
 * The Set-Cookie lines to pass on, and the names of the dropped ones (never their values).
 * Returns `lines` itself when nothing is dropped.
 */
export function withoutOwnCookies(
  lines: string | string[],
  isOwn: (name: string) => boolean,
): { kept: string | string[] | undefined; dropped: string[] } {
  const list = typeof lines === 'string' ? [lines] : lines;
  let dropped: string[] | undefined;
  for (const line of list) {
    const name = setCookieName(line);
    if (isOwn(name)) (dropped ??= []).push(name);
  }
  if (dropped === undefined) return { kept: lines, dropped: [] };
  const kept = list.filter((line) => !isOwn(setCookieName(line)));
  return { kept: kept.length === 0 ? undefined : kept, dropped };
}
