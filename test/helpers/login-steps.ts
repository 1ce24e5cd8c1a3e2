import { CookieJar } from './login.js';

// The steps of a login one at a time, for tests that look between them (the login cookie,
// the authorization URL, a callback replayed or forged).

/** A jar that remembers every request it made, with the Cookie header it sent. */
export class RecordingJar extends CookieJar {
  readonly requests: { url: string; cookie: string; response: Response }[] = [];
  /** runs before the jar fetches a gateway's /auth/callback (with the cookies it will send) */
  beforeCallback?: (url: string, cookie: string) => Promise<void>;

  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const cookie = this.header(url);
    if (new URL(url).pathname.endsWith('/auth/callback')) await this.beforeCallback?.(String(url), cookie);
    const response = await super.fetch(url, init);
    this.requests.push({ url: String(url), cookie, response });
    return response;
  }

  /** The first request whose path ends with `path`. */
  find(path: string): { url: string; cookie: string; response: Response } | undefined {
    return this.requests.find((r) => new URL(r.url).pathname.endsWith(path));
  }
}

function locationOf(response: Response, url: string | URL): string | undefined {
  const location = response.headers.get('location');
  return response.status >= 300 && response.status < 400 && location ? new URL(location, url).href : undefined;
}

/**
 * Follows the IdP's redirects (with the jar's IdP cookies) from `url` until they point at a
 * gateway's /auth/callback, and returns that URL without fetching it. Fails on a page (a
 * login form: the IdP wanted an interaction).
 */
export async function followToCallback(jar: CookieJar, url: string): Promise<string> {
  let next = url;
  for (let step = 0; step < 20; step++) {
    if (new URL(next).pathname.endsWith('/auth/callback')) return next;
    const response = await jar.fetch(next);
    const location = locationOf(response, next);
    await response.body?.cancel();
    if (!location) throw new Error(`${next} answered ${response.status}, not a redirect`);
    next = location;
  }
  throw new Error(`too many redirects (last: ${next})`);
}

/** GET /auth/login through the jar: the authorization URL, its state and the login cookie. */
export async function startLogin(jar: CookieJar, gatewayUrl: string, query = ''): Promise<{ authorizationUrl: string; state: string; cookie: string }> {
  const loginUrl = `${gatewayUrl}/auth/login${query}`;
  const response = await jar.fetch(loginUrl);
  await response.body?.cancel();
  const authorizationUrl = locationOf(response, loginUrl);
  if (!authorizationUrl) throw new Error(`GET ${loginUrl} answered ${response.status}`);
  const state = new URL(authorizationUrl).searchParams.get('state') ?? '';
  return { authorizationUrl, state, cookie: jar.header(gatewayUrl) };
}
