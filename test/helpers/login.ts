// Drives a browser-like login through the gateway and the demo IdP with plain
// fetch (redirect: 'manual') and a small cookie jar.

/**
 * Cookies per origin (scheme + host + port). Paths, Secure and SameSite are
 * ignored: every cookie of an origin is sent to every URL of that origin. The
 * loopback names localhost, 127.0.0.1 and [::1] count as the same host, so a
 * gateway reached as 127.0.0.1 still gets the cookies it set as localhost.
 */
export class CookieJar {
  readonly #origins = new Map<string, Map<string, string>>();

  static key(url: string | URL): string {
    const u = new URL(url);
    const host = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) ? 'loopback' : u.hostname;
    return `${u.protocol}//${host}:${u.port}`;
  }

  /** Stores the Set-Cookie headers of a response to a request for `url`. */
  store(url: string | URL, response: Response): void {
    const key = CookieJar.key(url);
    let cookies = this.#origins.get(key);
    if (!cookies) this.#origins.set(key, (cookies = new Map()));
    for (const header of response.headers.getSetCookie()) {
      const parsed = parseSetCookie(header);
      if (!parsed) continue;
      if (parsed.expired) cookies.delete(parsed.name);
      else cookies.set(parsed.name, parsed.value);
    }
  }

  get(url: string | URL, name: string): string | undefined {
    return this.#origins.get(CookieJar.key(url))?.get(name);
  }

  /** The Cookie header for `url` ('' when there is none). */
  header(url: string | URL): string {
    const cookies = this.#origins.get(CookieJar.key(url));
    return cookies ? [...cookies].map(([n, v]) => `${n}=${v}`).join('; ') : '';
  }

  /** fetch with this jar's cookies and redirect: 'manual'; stores what the response sets. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, response);
    return response;
  }
}

export interface ParsedSetCookie {
  name: string;
  value: string;
  expired: boolean;
  attributes: Map<string, string>; // lower-case attribute names; '' for flags like httponly
}

export function parseSetCookie(header: string): ParsedSetCookie | undefined {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf('=');
    const name = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    attributes.set(name, i < 0 ? '' : part.slice(i + 1).trim());
  }
  const maxAge = attributes.get('max-age');
  const expires = attributes.get('expires');
  const expired = (maxAge !== undefined && Number(maxAge) <= 0)
    || (expires !== undefined && Date.parse(expires) <= Date.now());
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), expired, attributes };
}

export interface LoginOptions {
  username?: string;
  password?: string;
  returnTo?: string;
  /** A jar to use (e.g. to reuse an existing IdP session); a fresh one by default. */
  jar?: CookieJar;
}

export interface LoginResult {
  /** "name=value" of the session cookie the callback set, for a Cookie header. */
  sessionCookie: string;
  /** Where the callback redirected (the Location header). */
  location: string;
  /** Every Set-Cookie header of the callback response. */
  callbackSetCookies: string[];
  /** The jar with the gateway's and the IdP's cookies (the IdP session, for logoutAtIdp). */
  jar: CookieJar;
}

const MAX_STEPS = 20;

function unexpected(step: string, status: number, url: string | URL, body: string): Error {
  const text = body.replace(/<(style|script)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return new Error(`${step}: unexpected ${status} from ${String(url)}${text ? ` — ${text.slice(0, 300)}` : ''}`);
}

async function describe(response: Response, url: string | URL, step: string): Promise<Error> {
  return unexpected(step, response.status, url, await response.text().catch(() => ''));
}

function errorText(html: string): string {
  return /class="error"[^>]*>([^<]*)/.exec(html)?.[1] ?? 'the login form was shown again';
}

function locationOf(response: Response, url: string | URL): string | undefined {
  const location = response.headers.get('location');
  return response.status >= 300 && response.status < 400 && location ? new URL(location, url).href : undefined;
}

/** The absolute action URL of the first <form> whose opening tag matches `which`. */
function formAction(html: string, which: RegExp, pageUrl: string | URL): string | undefined {
  const form = html.match(/<form\b[^>]*>/gi)?.find((tag) => which.test(tag));
  const action = form && /\baction="([^"]*)"/i.exec(form)?.[1];
  return action === undefined ? undefined : new URL(action.replaceAll('&amp;', '&'), pageUrl).href;
}

export async function loginThroughGateway(gatewayUrl: string, opts: LoginOptions = {}): Promise<LoginResult> {
  const jar = opts.jar ?? new CookieJar();
  const base = gatewayUrl.replace(/\/$/, '');
  const loginUrl = `${base}/auth/login${opts.returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(opts.returnTo)}`}`;
  const start = await jar.fetch(loginUrl);
  let url = locationOf(start, loginUrl);
  if (!url) throw await describe(start, loginUrl, 'GET /auth/login');
  await start.body?.cancel();

  const username = opts.username ?? 'alice';
  const credentials = new URLSearchParams({ username, password: opts.password ?? 'wonderland' });
  let submitted = false;
  for (let step = 0; step < MAX_STEPS; step++) {
    if (new URL(url).pathname.endsWith('/auth/callback')) return callback(jar, url);
    const response = await jar.fetch(url);
    const next = locationOf(response, url);
    if (next) { await response.body?.cancel(); url = next; continue; }
    const html = await response.text();
    const action = response.status === 200 ? formAction(html, /\bid="login"/, url) : undefined;
    if (!action) throw unexpected('following the authorization redirects', response.status, url, html);
    if (submitted) throw new Error(`login as ${username} refused at ${url}: ${errorText(html)}`);
    submitted = true;
    const posted = await jar.fetch(action, { method: 'POST', body: credentials });
    const after = locationOf(posted, action);
    if (after) { await posted.body?.cancel(); url = after; continue; }
    const page = await posted.text();
    throw posted.status === 200
      ? new Error(`login as ${username} refused at ${action}: ${errorText(page)}`)
      : unexpected('POST login form', posted.status, action, page);
  }
  throw new Error(`too many redirects during login (last: ${url})`);
}

async function callback(jar: CookieJar, url: string): Promise<LoginResult> {
  const response = await jar.fetch(url);
  const location = response.headers.get('location');
  if (response.status !== 302 && response.status !== 303) throw await describe(response, url, 'GET /auth/callback');
  await response.body?.cancel();
  const callbackSetCookies = response.headers.getSetCookie();
  const session = callbackSetCookies.map(parseSetCookie)
    .find((c) => c !== undefined && !c.expired && c.value !== '' && !c.name.endsWith('-login'));
  if (!session) throw new Error(`GET /auth/callback (${url}) set no session cookie: ${JSON.stringify(callbackSetCookies)}`);
  return { sessionCookie: `${session.name}=${session.value}`, location: location ?? '', callbackSetCookies, jar };
}

/**
 * Completes an RP-initiated logout at the IdP (the gateway's logoutUrl) with the
 * IdP session cookies in `jar`: confirms the logout form and follows redirects
 * until they leave the IdP. Returns the final URL (the post_logout_redirect_uri,
 * or the IdP's success page).
 */
export async function logoutAtIdp(logoutUrl: string, jar: CookieJar): Promise<{ location: string }> {
  const idp = CookieJar.key(logoutUrl);
  let url = logoutUrl;
  let confirmed = false;
  for (let step = 0; step < MAX_STEPS && CookieJar.key(url) === idp; step++) {
    const response = await jar.fetch(url);
    const next = locationOf(response, url);
    if (next) { await response.body?.cancel(); url = next; continue; }
    const html = response.status === 200 ? await response.text() : '';
    const action = formAction(html, /\/session\/end\/confirm"/, url);
    if (!action) {
      if (response.status === 200 && confirmed) return { location: url }; // the IdP's own success page
      throw await describe(response, url, 'RP-initiated logout');
    }
    const xsrf = /name="xsrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
    const posted = await jar.fetch(action, { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }) });
    confirmed = true;
    url = locationOf(posted, action) ?? '';
    if (!url) throw await describe(posted, action, 'POST logout confirmation');
    await posted.body?.cancel();
  }
  return { location: url };
}
