// The one redaction of URLs before they are logged (the access line, fastify's request and
// error lines). An OAuth `code` or `state` is a secret for as long as it can be used, and it
// may reach any path: the callback's query, a client's mistake, an upstream's redirect. So
// the values of `code` and `state` are replaced wherever they appear, in any spelling a
// server would read as those names (case, percent-encoding such as `%63ode`, repeated, `&`
// or `;` separated), on origin-form and absolute-form targets alike; `/auth/*` queries are
// dropped whole, and the user:password part of an absolute-form target is replaced too.
//
// Every request line goes through this, so a URL without a query costs one indexOf and is
// returned as it is; with a query, the names are compared in place and a new string is
// made only when there is something to redact.

export const REDACTED = '[redacted]';

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const absolute = url.charCodeAt(0) !== 47;
  if (q === -1 && !absolute) return url;
  const head = absolute ? redactUserinfo(q === -1 ? url : url.slice(0, q)) : undefined;
  if (q === -1) return head!;
  if (!absolute && url.startsWith('/auth/')) return `${url.slice(0, q)}?${REDACTED}`;
  const query = redactQuery(url, q + 1);
  if (query === undefined) return head === undefined ? url : head + url.slice(q);
  return (head ?? url.slice(0, q)) + '?' + query;
}

/** The query from `start` with code/state values replaced, or undefined when none is there. */
function redactQuery(url: string, start: number): string | undefined {
  let out: string | undefined;
  let copied = start;
  let param = start;
  for (let i = start; i <= url.length; i++) {
    const c = i === url.length ? 38 : url.charCodeAt(i);
    if (c !== 38 && c !== 59) continue; // & ;
    const eq = url.indexOf('=', param);
    if (eq !== -1 && eq < i && isSecretName(url, param, eq)) {
      out = (out ?? '') + url.slice(copied, eq + 1) + REDACTED;
      copied = i;
    }
    param = i + 1;
  }
  return out === undefined ? undefined : out + url.slice(copied);
}

/** Whether url[start, end) names `code` or `state`, compared as a server would decode it. */
function isSecretName(url: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 4 && sameLetters(url, start, 'code')) return true;
  if (length === 5 && sameLetters(url, start, 'state')) return true;
  if (length < 4) return false;
  let encoded = false;
  for (let i = start; i < end && !encoded; i++) encoded = url.charCodeAt(i) === 37 || url.charCodeAt(i) === 43; // % +
  if (!encoded) return false;
  const name = decodeLeniently(url.slice(start, end)).trim().toLowerCase();
  return name === 'code' || name === 'state';
}

/** url[start, start + word.length) equals the lower-case `word`, ignoring case (no copy) */
function sameLetters(url: string, start: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if ((url.charCodeAt(start + k) | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

function decodeLeniently(text: string): string {
  return text.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function redactUserinfo(target: string): string {
  const scheme = target.indexOf('://');
  if (scheme === -1) return target;
  const authorityStart = scheme + 3;
  let authorityEnd = target.length;
  for (const stop of ['/', '#']) {
    const at = target.indexOf(stop, authorityStart);
    if (at !== -1 && at < authorityEnd) authorityEnd = at;
  }
  const at = target.lastIndexOf('@', authorityEnd - 1);
  if (at < authorityStart) return target;
  return `${target.slice(0, authorityStart)}${REDACTED}${target.slice(at)}`;
}

/** Every URL query inside a free text (an error message): code and state values replaced. */
export function redactUrlsInText(text: string): string {
  if (!text.includes('=')) return text;
  return text.replace(/[?&;][^\s"'`=&;?#]+=[^\s"'`&;#]*/g, (param) => {
    const eq = param.indexOf('=');
    return isSecretName(param, 1, eq) ? `${param.slice(0, eq + 1)}${REDACTED}` : param;
  });
}
