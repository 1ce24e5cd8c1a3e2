// The tokenSources and routes sections.

import { tlsClient } from './schema-tls.js';
import { jwkFile } from './key-file.js';
import type { ExchangeConfig, JwtAssertionConfig, RouteConfig, SoapConfig, TokenSourceConfig } from './types.js';
import { parseDuration, parseSize } from './units.js';
import { listOf, mapOf, section, type Parse } from './validate.js';
import { bool, duration, httpUrl, integer, oneOf, positiveDuration, size, text } from './values.js';

const RESERVED_TOKENS = ['session', 'none'];

function sourceName(name: string): void {
  if (RESERVED_TOKENS.includes(name)) throw new Error(`"${name}" is reserved for routes' token setting; pick another name`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error('a token source name may hold letters, digits, ".", "_" and "-"');
}

/** grant jwt_bearer: what goes into the assertion the gateway signs */
const assertion = (baseDir: string) => section<JwtAssertionConfig>((r) => {
  const subject = r.req('subject', text);
  const audience = r.req('audience', text);
  const keyFile = r.req('keyFile', jwkFile(baseDir));
  const lifetimeMs = r.get('lifetime', positiveDuration, parseDuration('5m'));
  if (subject === undefined || audience === undefined || keyFile === undefined) return undefined;
  return { subject, audience, keyFile, lifetimeMs };
});

const tokenSource = (baseDir: string) => section<TokenSourceConfig>((r) => {
  const tokenEndpoint = r.req('tokenEndpoint', httpUrl);
  const grant = r.req('grant', oneOf('password', 'client_credentials', 'jwt_bearer'));
  const jwtBearer = grant === undefined ? undefined : grant === 'jwt_bearer';
  const password = grant === undefined ? undefined : grant === 'password';
  const credentials = grant === undefined ? undefined : grant === 'client_credentials';
  const why = (g: string): string => `with grant ${g}`;
  const source = {
    username: r.only(password, 'username', text, why('password')),
    password: r.only(password, 'password', text, why('password')),
    clientId: credentials === true ? r.req('clientId', text, why('client_credentials')) : r.opt('clientId', text),
    clientSecret: credentials === true ? r.req('clientSecret', text, why('client_credentials')) : r.opt('clientSecret', text),
    scope: r.opt('scope', text),
    assertion: r.only(jwtBearer, 'assertion', assertion(baseDir), why('jwt_bearer')),
    maxRefreshes: r.get('maxRefreshes', integer(0), 10),
    refreshBeforeMs: r.get('refreshBefore', duration, parseDuration('60s')),
    ...(r.has('tls') ? { tls: r.opt('tls', tlsClient(baseDir, { servername: false })) } : {}),
  };
  return tokenEndpoint === undefined || grant === undefined ? undefined : { tokenEndpoint, grant, ...source };
});

/** `baseDir`: where relative file names (assertion.keyFile) are resolved */
export const tokenSources = (baseDir: string) => mapOf(tokenSource(baseDir), sourceName);

function routePrefix(value: unknown): string {
  const prefix = text(value);
  if (!prefix.startsWith('/')) throw new Error('must start with "/"');
  if (prefix !== '/' && prefix.endsWith('/')) throw new Error('must not end with "/" (unless it is exactly "/")');
  if (/[*?#\s]/.test(prefix)) throw new Error('must be a plain path: no "*", "?", "#" or spaces');
  return prefix;
}

function rewritePrefix(value: unknown): string {
  if (value === '') return '';
  const prefix = text(value);
  if (!prefix.startsWith('/')) throw new Error('must be empty or start with "/"');
  return prefix;
}

/** A local name, or "{namespace-uri}local" (Clark notation). */
function elementName(value: unknown): string {
  const name = text(value);
  if (!/^(?:\{[^{}\s]*\})?[A-Za-z_][\w.-]*$/.test(name)) {
    throw new Error('must be a local name ("token") or "{namespace-uri}local"');
  }
  return name;
}

const soap = section<SoapConfig>((r) => {
  const version = r.get('version', oneOf('auto', '1.1', '1.2'), 'auto');
  const inject = r.req('inject', oneOf('wsse', 'header', 'body'));
  const element = r.get('element', elementName, 'token');
  const maxBytes = r.get('maxBytes', size, parseSize('1mb'));
  const operations = r.opt('operations', listOf(elementName, { nonEmpty: true }));
  const tokenType = r.opt('tokenType', oneOf('saml2'));
  if (tokenType !== undefined && inject !== undefined && inject !== 'wsse') r.report('saml2 goes with inject: wsse only', 'tokenType');
  if (inject === undefined) return undefined;
  return {
    version,
    inject,
    element,
    maxBytes,
    ...(operations === undefined ? {} : { operations }),
    ...(tokenType === undefined ? {} : { tokenType }),
  };
});

const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SAML2_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:saml2';

const exchange = section<ExchangeConfig>((r) => {
  const audience = r.req('audience', text);
  const rest = {
    resource: r.opt('resource', httpUrl),
    scope: r.opt('scope', text),
    requestedTokenType: r.get('requestedTokenType', tokenTypeUri, ACCESS_TOKEN_TYPE),
  };
  return audience === undefined ? undefined : { audience, ...rest };
});

function tokenTypeUri(value: unknown): string {
  const uri = text(value);
  if (!/^urn:ietf:params:oauth:token-type:[a-z0-9_-]+$/i.test(uri)) throw new Error('must be a token type URI (urn:ietf:params:oauth:token-type:...)');
  return uri;
}

function route(sourceNames: string[], prefixes: Map<string, string>, baseDir: string): Parse<RouteConfig> {
  const tokens = [...RESERVED_TOKENS, ...sourceNames];
  const token: Parse<string> = (value) => {
    const name = text(value);
    if (tokens.includes(name)) return name;
    const known = sourceNames.length === 0 ? 'no tokenSources are defined' : `tokenSources: ${sourceNames.join(', ')}`;
    throw new Error(`"${name}" is not session, none, or a token source (${known})`);
  };
  return section((r) => {
    const prefix = r.req('prefix', routePrefix);
    const first = prefix === undefined ? undefined : prefixes.get(prefix);
    if (first !== undefined) r.report(`duplicates ${first}`, 'prefix');
    else if (prefix !== undefined) prefixes.set(prefix, r.at('prefix').path);
    const upstream = r.req('upstream', httpUrl);
    const tokenName = r.get('token', token, 'session');
    const requireSession = r.get('requireSession', bool, tokenName !== 'none');
    const rest = {
      rewritePrefix: r.get('rewritePrefix', rewritePrefix, ''),
      scope: r.opt('scope', text),
      csrf: r.get('csrf', bool, requireSession),
      retryOn401: r.get('retryOn401', bool, true),
      timeoutMs: r.get('timeout', positiveDuration, parseDuration('30s')),
      soap: r.opt('soap', soap),
      websocket: r.get('websocket', bool, false),
      websocketMaxBytes: r.get('websocketMaxBytes', size, parseSize('1mb')),
      ...(r.has('tls') ? { tls: r.opt('tls', tlsClient(baseDir, { servername: true })) } : {}),
      exchange: r.opt('exchange', exchange),
    };
    if (rest.tls !== undefined && upstream !== undefined && !upstream.startsWith('https:')) {
      r.report('applies to https:// upstreams only', 'tls');
    }
    // the subject token of an exchange is the session's access token
    if (rest.exchange !== undefined && tokenName !== undefined && tokenName !== 'session') {
      r.report('applies to token: session routes only (the session\'s access token is the subject token)', 'exchange');
    }
    const saml = rest.soap?.tokenType === 'saml2';
    if (saml && rest.exchange?.requestedTokenType !== SAML2_TOKEN_TYPE) {
      r.report(`saml2 needs exchange.requestedTokenType: ${SAML2_TOKEN_TYPE} on the route`, 'soap');
    }
    if (rest.exchange !== undefined && rest.scope !== undefined) r.report('cannot be combined with exchange (put the scope in exchange.scope)', 'scope');
    // downscoping spends the session's refresh token; other tokens have nothing to narrow
    if (rest.scope !== undefined && tokenName !== undefined && tokenName !== 'session') {
      r.report('applies to token: session routes only (a token source asks for its own scope)', 'scope');
    }
    if (prefix === undefined || upstream === undefined) return undefined;
    return { prefix, upstream, token: tokenName, requireSession, ...rest };
  });
}

/** Routes; `token` may name any entry of tokenSources (valid or not, to report each problem once). */
export function routes(sourceNames: string[], baseDir: string): Parse<RouteConfig[]> {
  return (value, ctx) => listOf(route(sourceNames, new Map(), baseDir))(value, ctx);
}
