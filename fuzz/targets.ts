import { fastifyCookie } from '@fastify/cookie';
import Fastify, { type FastifyRequest } from 'fastify';
import { validateHeaderValue } from 'node:http';
import { interpolate } from '../src/config/interpolate.js';
import { LoginTransactions } from '../src/auth/login-transactions.js';
import { isSafeReturnTo } from '../src/auth/return-to.js';
import type { ConfigProblem } from '../src/config/validate.js';
import type { GatewayConfig, SoapConfig } from '../src/config/types.js';
import { GatewayError } from '../src/errors.js';
import { LogoutTokenError, LogoutTokenVerifier, type VerifiedLogout } from '../src/oidc/logout-token.js';
import { Upstream } from '../src/proxy/upstream.js';
import { SessionCipher } from '../src/session/cipher.js';
import { SessionCookies } from '../src/session/cookies.js';
import type { SessionStore } from '../src/store/store.js';
import { prepareSoapBody } from '../src/soap/prepare.js';
import { startLogoutFixture, type LogoutFixture } from './logout-fixture.js';

// The edge parsers as fuzz targets: one thin adapter each, shared by `npm run fuzz`
// (fuzz/run.ts) and the corpus replay (test/unit/fuzz-corpus.test.ts). An adapter calls the
// parser the way the gateway does, lets through only the parser's documented outcomes
// (its GatewayError/LogoutTokenError, a false/null result), and checks what must hold of
// an accepted input. Anything it throws is a failure.

export const TARGET_NAMES = ['interpolate', 'cookie', 'returnTo', 'upstreamPath', 'soapEnvelope', 'logoutToken'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface FuzzTargets {
  check: Record<TargetName, (input: string) => void | Promise<void>>;
  /** what the generators build on: valid inputs of each target */
  logout: LogoutFixture;
  close(): Promise<void>;
}

export class InvariantBroken extends Error {
  override readonly name = 'InvariantBroken';
}

function expect(condition: boolean, what: string): void {
  if (!condition) throw new InvariantBroken(what);
}

// config interpolation --------------------------------------------------------------------

export const FUZZ_ENV: NodeJS.ProcessEnv = { HOME: '/home/x', EMPTY: '', SECRET: 's$e{c}r:e#t', NESTED: '${HOME}' };

function checkInterpolate(input: string): void {
  const problems: ConfigProblem[] = [];
  const out = interpolate({ value: input, list: [input] }, FUZZ_ENV, problems) as { value: unknown; list: unknown[] };
  expect(typeof out.value === 'string' && out.list[0] === out.value, 'a string stays one string');
  expect(problems.length <= 2 * (input.split('$').length - 1), 'at most one problem per "$" and place');
  if (!input.includes('$')) expect(out.value === input && problems.length === 0, 'text without "$" is left alone');
  // a value is inserted as it is, never expanded again
  if (input === '${NESTED}') expect(out.value === '${HOME}', 'a substituted value is not expanded again');
}

// cookie unsign ------------------------------------------------------------------------------

export const COOKIE_SECRETS = ['fuzz-secret-current-0123456789abcdef', 'fuzz-secret-previous-fedcba9876543210'];
export const COOKIE_NAME = '__Host-bff';

/** The gateway's cookie plugin on a fastify instance of its own: its parser and its signer. */
async function cookieChecker(): Promise<{ check: (input: string) => void; close: () => Promise<void> }> {
  const app = Fastify();
  await app.register(fastifyCookie, { secret: COOKIE_SECRETS });
  await app.ready();
  const config = {
    server: { publicUrl: 'https://gateway.example' },
    session: { cookieName: COOKIE_NAME, secrets: COOKIE_SECRETS, absoluteTimeoutMs: 3_600_000, sameSite: 'strict' },
  } as unknown as Pick<GatewayConfig, 'server' | 'session'>;
  const cookies = new SessionCookies(config);
  // the login cookie is sealed (AES-GCM), not signed: only a value the gateway sealed opens
  const logins = new LoginTransactions(null as unknown as SessionStore, new SessionCipher([Buffer.alloc(32, 3)]));
  const authentic = (value: string, raw: string | undefined) => COOKIE_SECRETS.some((s) => fastifyCookie.sign(value, s) === raw);
  const check = (header: string) => {
    // as the plugin's onRequest hook and request.unsignCookie do it
    const jar = app.parseCookie(header);
    const request = { cookies: jar, unsignCookie: (value: string) => app.unsignCookie(value) } as unknown as FastifyRequest;
    const id = cookies.sessionId(request);
    const login = cookies.loginTransaction(request);
    expect(id === null || (typeof id === 'string' && id !== ''), 'a session id is a string or null');
    if (id !== null) expect(authentic(id, jar[COOKIE_NAME]), 'an accepted session cookie is signed by a secret');
    if (login !== null) expect(logins.open(login) === null, 'a login cookie the gateway did not seal does not open');
  };
  return { check, close: () => app.close() };
}

// returnTo -------------------------------------------------------------------------------------

const GATEWAY_ORIGINS = ['https://gateway.example', 'http://127.0.0.1:8080', 'https://gw.example:8443'];

function checkReturnTo(input: string): void {
  const safe = isSafeReturnTo(input);
  expect(typeof safe === 'boolean', 'a boolean');
  if (!safe) return;
  expect(input.length <= 2048, 'an accepted returnTo has at most 2,048 characters');
  expect(isLocationSafe(input), 'an accepted returnTo can be a Location header as it is');
  for (const origin of GATEWAY_ORIGINS) {
    // as a browser resolves the Location the callback sends
    expect(new URL(input, origin).origin === origin, `an accepted returnTo stays on ${origin}`);
  }
}

function isLocationSafe(value: string): boolean {
  try {
    validateHeaderValue('location', value);
    return true;
  } catch {
    return false;
  }
}

// upstream path building -------------------------------------------------------------------------

const PATH_ROUTES = [
  { prefix: '/api/orders', upstream: 'http://127.0.0.1:9/orders', rewritePrefix: '' },
  { prefix: '/soap', upstream: 'http://127.0.0.1:9/SSWebService.asmx', rewritePrefix: '' },
  { prefix: '/', upstream: 'http://127.0.0.1:9', rewritePrefix: '/v1' },
];


/** %XX decoded once, byte by byte (what an upstream that decodes leniently sees) */
const lenientDecode = (path: string) => path.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));

function upstreamPathChecker(): { check: (input: string) => void; close: () => Promise<void> } {
  const routes = PATH_ROUTES.map((route) => ({ route, upstream: new Upstream({ ...route, timeoutMs: 1000 }) }));
  const check = (url: string) => {
    // what routing hands over: origin-form URLs under the route's prefix (longest first)
    if (!url.startsWith('/')) return;
    const under = (prefix: string) => prefix === '/' || url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
    const { upstream } = routes.find(({ route }) => under(route.prefix))!;
    let path: string;
    try {
      path = upstream.path(url);
    } catch (e) {
      if (e instanceof GatewayError && e.status === 400) return;
      throw e;
    }
    expect(path.startsWith('/'), 'an upstream path starts with "/"');
    const query = path.indexOf('?');
    const segments = lenientDecode(query === -1 ? path : path.slice(0, query)).split(/[\\/]/);
    expect(!segments.includes('..'), 'an upstream path holds no ".." segment once decoded');
    expect(!segments.some((s) => s.startsWith('..;')), 'nor a "..;" segment');
  };
  return { check, close: async () => void (await Promise.all(routes.map(({ upstream }) => upstream.close()))) };
}

// SOAP envelope reader -------------------------------------------------------------------------

export const SOAP_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmdXp6In0.c2lnbmF0dXJl';
const SOAP_CONTENT_TYPES = [undefined, 'text/xml; charset=utf-8', 'application/soap+xml', 'text/xml; charset=iso-8859-1', 'text/xml; charset=utf-16', 'text/xml'];
/** the token as written (ASCII) in the encodings an envelope may have */
const SOAP_TOKEN_BYTES = Object.fromEntries((['wsse', 'header', 'body'] as const).map((mode) => {
  const text = mode === 'wsse' ? Buffer.from(SOAP_TOKEN).toString('base64') : SOAP_TOKEN;
  return [mode, [Buffer.from(text, 'latin1'), Buffer.from(text, 'utf16le'), Buffer.from(text, 'utf16le').swap16()]];
})) as Record<SoapConfig['inject'], Buffer[]>;
const soapRoute = (inject: SoapConfig['inject'], extra: Partial<SoapConfig> = {}): SoapConfig =>
  ({ version: 'auto', inject, element: inject === 'header' ? '{urn:example:auth}AuthToken' : 'token', maxBytes: 64 * 1024, ...extra });
const SOAP_ROUTES = [soapRoute('wsse'), soapRoute('header'), soapRoute('body'), soapRoute('body', { operations: ['GetSecret', '{urn:ss}Op'] })];

/** The input's characters are the body's bytes (latin1); its length picks the content type and route. */
function checkSoapEnvelope(input: string): void {
  const body = Buffer.from(input, 'latin1');
  const contentType = SOAP_CONTENT_TYPES[input.length % SOAP_CONTENT_TYPES.length];
  const soap = SOAP_ROUTES[(input.length >> 3) % SOAP_ROUTES.length]!;
  let first: { body: Buffer; version: string };
  try {
    first = prepareSoapBody(body, contentType, soap, SOAP_TOKEN);
  } catch (e) {
    if (e instanceof GatewayError && (e.status === 400 || e.status === 413)) return;
    throw e;
  }
  // what is forwarded is an envelope the gateway reads again (same version), with the token
  // in it, and writing the same token again changes nothing (every edit landed where meant)
  const again = prepareSoapBody(first.body, contentType, soap, SOAP_TOKEN);
  expect(again.body.equals(first.body), 'writing the token twice gives the bytes of writing it once');
  expect(again.version === first.version, 'the version is kept');
  expect(SOAP_TOKEN_BYTES[soap.inject].some((bytes) => first.body.includes(bytes)), 'the token is in the forwarded envelope');
}

// logout token checks ------------------------------------------------------------------------------

function logoutChecker(fixture: LogoutFixture): (input: string) => Promise<void> {
  const verifier = new LogoutTokenVerifier(fixture.options);
  return async (token) => {
    let verified: VerifiedLogout;
    try {
      verified = await verifier.verify(token);
    } catch (e) {
      if (e instanceof LogoutTokenError) return;
      throw e;
    }
    const signed = fixture.valid.get(verified.jti);
    expect(signed !== undefined, 'an accepted logout token is one the IdP signed as valid');
    expect(signed?.sid === verified.sid && signed?.sub === verified.sub, 'sid and sub are the signed ones');
  };
}

// ---------------------------------------------------------------------------------------------

export async function openTargets(): Promise<FuzzTargets> {
  const logout = await startLogoutFixture();
  const paths = upstreamPathChecker();
  const cookie = await cookieChecker();
  return {
    check: {
      interpolate: checkInterpolate,
      cookie: cookie.check,
      returnTo: checkReturnTo,
      upstreamPath: paths.check,
      soapEnvelope: checkSoapEnvelope,
      logoutToken: logoutChecker(logout),
    },
    logout,
    async close() {
      await paths.close();
      await cookie.close();
      await logout.close();
    },
  };
}
