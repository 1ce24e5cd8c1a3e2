// Validation and normalisation of the (interpolated) configuration tree into GatewayConfig:
// every default filled in, durations in ms, sizes in bytes, every problem collected.

import { jsonKeyFile } from './key-file.js';
import { routes, tokenSources } from './schema-routes.js';
import { telemetrySection } from './schema-telemetry.js';
import { tlsClient, tlsServer, withBoundCertificate } from './schema-tls.js';
import type { GatewayConfig, OidcConfig, ServerConfig, SessionConfig, StoreConfig } from './types.js';
import { parseDuration } from './units.js';
import { isMapping, listOf, run, section, type ConfigProblem, type Parse, type Reader } from './validate.js';
import type { DpopAlg } from '../oidc/dpop.js';
import { anyText, bool, duration, hostPort, httpUrl, integer, oneOf, origin, positiveDuration, redisUrl, text, trustProxy } from './values.js';

export interface SchemaOptions {
  /** relative file names (oidc.privateKeyFile) are resolved against this directory */
  baseDir: string;
}

/** Returns the config, or undefined when `problems` received at least one problem. */
export function validateConfig(raw: unknown, opts: SchemaOptions, problems: ConfigProblem[]): GatewayConfig | undefined {
  const root = section<GatewayConfig>((r) => {
    const server = run(serverSection(opts.baseDir), r.peek('server') ?? {}, r.at('server')); // every key has a default
    const store = r.req('store', storeSection(opts.baseDir));
    const session = r.req('session', sessionSection(server?.publicUrl));
    const oidc = r.req('oidc', oidcSection(server?.publicUrl, opts.baseDir));
    const sources = r.get('tokenSources', tokenSources(opts.baseDir), {});
    const rawSources = r.peek('tokenSources');
    const routeList = r.get('routes', routes(isMapping(rawSources) ? Object.keys(rawSources) : [], opts.baseDir), []);
    const telemetry = r.get('telemetry', telemetrySection, {});
    if (server === undefined || store === undefined || session === undefined || oidc === undefined) return undefined;
    return { server, store, session, oidc, tokenSources: sources, routes: withBoundCertificate(routeList, oidc.tls), telemetry };
  });
  return run(root, raw ?? {}, { path: '', problems });
}

const serverSection = (baseDir: string) => section<ServerConfig>((r) => {
  const host = r.get('host', text, '127.0.0.1');
  const port = r.get('port', integer(0, 65535), 8080);
  const trust = r.get('trustProxy', trustProxy, false);
  const limits = {
    requestTimeoutMs: r.get('requestTimeout', positiveDuration, parseDuration('30s')),
    maxConnections: r.get('maxConnections', integer(1), 10_000),
  };
  const operators = managementKeys(r);
  const tls = r.opt('tls', tlsServer(baseDir));
  // WebSocket upgrades (routes[].websocket) are accepted from these origins only
  const allowed = r.opt('allowedOrigins', listOf(origin));
  const rest = (publicUrl: string) => ({
    ...limits,
    ...operators,
    ...(tls === undefined ? {} : { tls }),
    allowedOrigins: allowed ?? [new URL(publicUrl).origin],
  });
  if (r.has('publicUrl')) {
    const publicUrl = r.opt('publicUrl', origin);
    return publicUrl === undefined ? undefined : { host, port, publicUrl, trustProxy: trust, ...rest(publicUrl) };
  }
  if (port !== 0) {
    const publicUrl = `${r.has('tls') ? 'https' : 'http'}://localhost:${port}`;
    return { host, port, publicUrl, trustProxy: trust, ...rest(publicUrl) };
  }
  r.report('is required when server.port is 0', 'publicUrl');
  return undefined;
});

/** server.management (the operators' listener) and server.adminToken, only when set */
function managementKeys(r: Reader): Pick<ServerConfig, 'management' | 'adminToken'> {
  const management = r.opt('management', section((m) => ({
    host: m.get('host', text, '127.0.0.1'),
    port: m.get('port', integer(0, 65535), 9090),
  })));
  const adminToken = r.opt('adminToken', secret);
  return { ...(management ? { management } : {}), ...(adminToken === undefined ? {} : { adminToken }) };
}

const redisNodes = listOf(hostPort, { nonEmpty: true });

const storeSection = (baseDir: string) => section<StoreConfig>((r) => {
  const kinds = ['url', 'sentinel', 'cluster'].filter((key) => r.has(key));
  if (kinds.length !== 1) {
    const found = kinds.length === 0 ? 'none is set' : `found ${kinds.join(', ')}`;
    r.report(`exactly one of url, sentinel or cluster is required (${found})`);
  }
  const url = r.peek('url');
  if (r.has('tls') && typeof url === 'string' && !/^rediss:/i.test(url)) {
    r.report('needs a rediss:// store.url (or Sentinel or Cluster)', 'tls');
  }
  return {
    url: r.opt('url', redisUrl),
    sentinel: r.opt('sentinel', section((s) => {
      const name = s.req('name', text);
      const nodes = s.req('nodes', redisNodes);
      const auth = { password: s.opt('password', text), sentinelPassword: s.opt('sentinelPassword', text) };
      return name === undefined || nodes === undefined ? undefined : { name, nodes, ...auth };
    })),
    cluster: r.opt('cluster', section((c) => {
      const nodes = c.req('nodes', redisNodes);
      const password = c.opt('password', text);
      return nodes === undefined ? undefined : { nodes, password };
    })),
    keyPrefix: r.get('keyPrefix', anyText, 'bff:'),
    ...optional('tls', r.opt('tls', tlsClient(baseDir, { servername: false }))),
  };
});

/** Plain http on a host other than loopback: no Secure cookies, so no __Host-/__Secure- prefix. */
function insecureRemote(publicUrl: string): boolean {
  const url = new URL(publicUrl);
  return url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

function cookieName(insecure: boolean): (value: unknown) => string {
  return (value) => {
    const name = text(value);
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new Error('must be a cookie name token (letters, digits, !#$%&\'*+-.^_`|~)');
    if (insecure && /^__(Host|Secure)-/i.test(name)) {
      throw new Error(
        'the __Host- and __Secure- prefixes need https, but server.publicUrl is plain http on a non-loopback host: browsers would drop the cookie',
      );
    }
    return name;
  };
}

function secret(value: unknown): string {
  const s = text(value);
  if (s.length < 32) throw new Error(`must be at least 32 characters long (it has ${s.length})`);
  return s;
}

/** 32 bytes, base64 (standard or url-safe, padding optional). */
function aesKey(value: unknown): Buffer {
  const s = text(value).trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) throw new Error('must be base64 (e.g. the output of `openssl rand -base64 32`)');
  const key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new Error(`must decode to exactly 32 bytes (it decodes to ${key.length}); use \`openssl rand -base64 32\``);
  return key;
}

function sessionSection(publicUrl: string | undefined): Parse<SessionConfig> {
  const insecure = publicUrl !== undefined && insecureRemote(publicUrl);
  return section((r) => {
    const name = r.get('cookieName', cookieName(insecure), insecure ? 'bff' : '__Host-bff');
    const secrets = r.req('secrets', listOf(secret, { nonEmpty: true }));
    const encryptionKeys = r.req('encryptionKeys', listOf(aesKey, { nonEmpty: true }));
    const idleTimeoutMs = r.get('idleTimeout', positiveDuration, parseDuration('30m'));
    const absoluteTimeoutMs = r.get('absoluteTimeout', positiveDuration, parseDuration('12h'));
    if (idleTimeoutMs > absoluteTimeoutMs) r.report('must not be longer than session.absoluteTimeout', 'idleTimeout');
    const sameSite = r.get('sameSite', oneOf('strict', 'lax'), 'strict');
    const maxPerUser = r.get('maxPerUser', integer(0, 10_000), 0);
    if (secrets === undefined || encryptionKeys === undefined) return undefined;
    return { cookieName: name, secrets, encryptionKeys, idleTimeoutMs, absoluteTimeoutMs, sameSite, maxPerUser };
  });
}

function scope(value: unknown): string {
  const s = text(value);
  if (!s.split(/\s+/).includes('openid')) throw new Error('must contain "openid"');
  return s;
}

/** oidc.tokenConcurrency: token endpoint requests in flight at once from one instance. */
function tokenConcurrency(value: unknown): number {
  try {
    return integer(1)(value);
  } catch {
    throw new Error('must be a whole number of at least 1 (token endpoint requests in flight at once per instance)');
  }
}

function oidcSection(publicUrl: string | undefined, baseDir: string): Parse<OidcConfig> {
  return section((r) => {
    const issuer = r.req('issuer', httpUrl);
    const clientId = r.req('clientId', text);
    const methods = oneOf('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth', 'none');
    const method = r.get('tokenEndpointAuthMethod', methods, 'client_secret_basic');
    const usesSecret = method === 'client_secret_basic' || method === 'client_secret_post';
    const tls = r.opt('tls', tlsClient(baseDir, { servername: false }));
    // RFC 8705: the client authenticates with the certificate it presents on the connection
    if ((method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') && r.has('tls') && tls?.cert === undefined) {
      r.report(`needs cert and key (the client certificate) with tokenEndpointAuthMethod ${method}`, 'tls');
    } else if ((method === 'tls_client_auth' || method === 'self_signed_tls_client_auth') && !r.has('tls')) {
      r.report(`is required with tokenEndpointAuthMethod ${method} (cert and key: the client certificate)`, 'tls');
    }
    const rest = {
      clientSecret: r.only(usesSecret, 'clientSecret', text, 'with tokenEndpointAuthMethod client_secret_basic or client_secret_post'),
      privateKeyFile: r.only(method === 'private_key_jwt', 'privateKeyFile', jsonKeyFile(baseDir), 'with tokenEndpointAuthMethod private_key_jwt'),
      scope: r.get('scope', scope, 'openid profile offline_access'),
      refreshBeforeMs: r.get('refreshBefore', duration, parseDuration('60s')),
      tokenConcurrency: r.get('tokenConcurrency', tokenConcurrency, 16),
      postLogoutRedirectUri: r.opt('postLogoutRedirectUri', httpUrl) ?? (publicUrl === undefined ? undefined : `${publicUrl}/`),
      ...optional('tls', tls),
      dpop: r.get('dpop', bool, false),
      dpopAlgs: r.get<DpopAlg[]>('dpopAlgs', listOf(oneOf('Ed25519', 'ES256'), { nonEmpty: true }), ['ES256']),
      par: r.get('par', bool, false),
    };
    if (issuer === undefined || clientId === undefined) return undefined;
    return { issuer, clientId, tokenEndpointAuthMethod: method, ...rest };
  });
}

/** `{ [key]: value }`, or nothing when the value is absent (optional keys stay absent). */
function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}
