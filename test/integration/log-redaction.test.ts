import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_KEY, SESSION_SECRET } from '../helpers/gateway.js';
import { BFF_CLIENT_SECRET } from '../helpers/idp.js';
import { CookieJar, loginThroughGateway, parseSetCookie } from '../helpers/login.js';
import { peekSession, sessionIdOf } from '../helpers/session-peek.js';
import { startStack, type Stack } from '../helpers/stack.js';

// The logs of a whole login → refresh → logout run, at debug level, hold none of the
// values that would let a reader act as the user or as the gateway, and every request line
// says which request, which route, and (for proxied calls) what the upstream answered and
// how long it took.

/** A jar that remembers every cookie value the gateway set and the callback URL it saw. */
class RecordingJar extends CookieJar {
  readonly gatewayCookieValues = new Set<string>();
  readonly callbackQueries: URLSearchParams[] = [];

  constructor(private readonly gatewayOrigin: string) {
    super();
  }

  override store(url: string | URL, response: Response): void {
    if (CookieJar.key(url) === CookieJar.key(this.gatewayOrigin)) {
      for (const header of response.headers.getSetCookie()) {
        const value = parseSetCookie(header)?.value;
        if (value) this.gatewayCookieValues.add(value).add(decodeURIComponent(value));
      }
    }
    super.store(url, response);
  }

  override fetch(url: string | URL, init?: RequestInit): Promise<Response> {
    const parsed = new URL(url);
    if (parsed.pathname === '/auth/callback') this.callbackQueries.push(parsed.searchParams);
    return super.fetch(url, init);
  }
}

interface LogLine {
  level: number;
  msg?: string;
  reqId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number; route?: string; upstream?: { status: number; durationMs: number } };
  responseTime?: number;
}

let stack: Stack;

beforeAll(async () => {
  // 30 s tokens and a 60 s refresh window: every proxied call refreshes, no waiting needed
  stack = await startStack({
    idp: { accessTokenTtl: 30 },
    routes: (url) => [{ prefix: '/api', upstream: url }],
    gateway: { app: { logLevel: 'debug' } },
  });
});

afterAll(async () => stack?.close());

describe('logs of a login → refresh → logout run', () => {
  it('hold no token, cookie, code or secret, and say request id, route, upstream status and duration', async () => {
    const { gw, idp, redis, upstream } = stack;
    const client = redis.client();
    const jar = new RecordingJar(gw.url);
    const { sessionCookie } = await loginThroughGateway(gw.url, { jar });
    const secrets = new Set<string>([BFF_CLIENT_SECRET, SESSION_SECRET, SESSION_KEY, sessionIdOf(sessionCookie)]);
    for (const value of jar.gatewayCookieValues) secrets.add(value);
    for (const query of jar.callbackQueries) for (const name of ['code', 'state']) secrets.add(query.get(name) ?? '');
    const rememberTokens = async () => {
      const s = await peekSession(client, sessionCookie);
      for (const t of [s?.tokens.accessToken, s?.tokens.refreshToken, s?.tokens.idToken]) if (t) secrets.add(t);
    };
    await rememberTokens();

    const headers = { 'x-csrf': '1', cookie: sessionCookie };
    const refreshes = idp.stats.refreshes;
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/api/orders/${i}?page=1`, { headers });
      expect(res.status).toBe(200);
      await rememberTokens();
    }
    expect(idp.stats.refreshes).toBe(refreshes + 2);
    for (const seen of upstream.seen) secrets.add(seen.headers.authorization?.replace(/^Bearer /, '') ?? '');
    expect((await fetch(`${gw.url}/auth/user`, { headers })).status).toBe(200);
    expect((await fetch(`${gw.url}/auth/logout`, { method: 'POST', headers })).status).toBe(200);
    expect((await fetch(`${gw.url}/api/after-logout`, { headers })).status).toBe(401);

    // login cookie, session cookie (raw and decoded), id, code, state, 3 access + 3 refresh tokens, ID tokens
    secrets.delete('');
    expect(secrets.size).toBeGreaterThanOrEqual(14);
    const text = gw.logs.join('');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(20);
      expect(text.includes(secret), `a secret of ${secret.length} characters is in the logs`).toBe(false);
    }

    const lines = gw.logs.flatMap((chunk) => chunk.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as LogLine);
    expect(lines.some((l) => l.level === 20 || l.level === 30)).toBe(true);
    const callbacks = lines.filter((l) => l.req?.url.startsWith('/auth/callback'));
    expect(callbacks.length).toBeGreaterThan(0);
    for (const l of callbacks) expect(l.req?.url).toBe('/auth/callback?[redacted]');

    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(completed.length).toBeGreaterThanOrEqual(6);
    for (const l of completed) {
      expect(l.reqId).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof l.responseTime).toBe('number');
      expect(typeof l.res?.route).toBe('string');
    }
    const byRoute = (route: string) => completed.filter((l) => l.res?.route === route);
    expect(byRoute('/auth/user').map((l) => l.res?.statusCode)).toEqual([200]);
    expect(byRoute('/auth/logout').map((l) => l.res?.statusCode)).toEqual([200]);

    const proxied = byRoute('/api');
    expect(proxied.map((l) => l.res?.statusCode)).toEqual([200, 200, 401]);
    for (const l of proxied.slice(0, 2)) {
      expect(l.res?.upstream?.status).toBe(200);
      expect(l.res?.upstream?.durationMs).toBeGreaterThanOrEqual(0);
      expect(l.res?.upstream?.durationMs).toBeLessThanOrEqual(l.responseTime ?? -1);
    }
    // refused before it was forwarded: no upstream part
    expect(proxied[2]?.res?.upstream).toBeUndefined();
    // one line per request: it names the path (with its query)
    expect(proxied[0]?.req).toMatchObject({ method: 'GET', url: '/api/orders/0?page=1' });
    expect(lines.filter((l) => l.reqId === proxied[0]?.reqId)).toHaveLength(1);
  });
});
