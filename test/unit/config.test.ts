import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, loadConfigFile, parseConfig, type ConfigProblem } from '../../src/config/load.js';
import { parseDuration, parseSize } from '../../src/config/units.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = 's'.repeat(32);
const ENV = { SESSION_SECRET: SECRET, SESSION_KEY: KEY, OIDC_CLIENT_SECRET: 'client-secret' };

type Tree = Record<string, unknown>;
const base = (): Tree => ({
  store: { url: 'memory' },
  session: { secrets: [SECRET], encryptionKeys: [KEY] },
  oidc: { issuer: 'http://localhost:9000', clientId: 'bff', clientSecret: 'x' },
});
/** the minimal config with some sections replaced or added */
const cfg = (over: Tree = {}): string => stringify({ ...base(), ...over });
const withSession = (extra: Tree): string => cfg({ session: { ...(base().session as Tree), ...extra } });
const withRoute = (route: Tree, more: Tree = {}): string => cfg({ routes: [{ prefix: '/api', upstream: 'http://127.0.0.1:9101', ...route }], ...more });

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
const problemsOf = (text: string, env: NodeJS.ProcessEnv = ENV): ConfigProblem[] => errorOf(() => parseConfig(text, { env })).problems;
const paths = (text: string, env?: NodeJS.ProcessEnv): string[] => problemsOf(text, env).map((p) => p.path);

describe('defaults', () => {
  it('fills every default of a minimal config', () => {
    const c = parseConfig(cfg(), { env: {} });
    expect(c.server).toEqual({
      host: '127.0.0.1', port: 8080, publicUrl: 'http://localhost:8080', trustProxy: false, requestTimeoutMs: 30_000, maxConnections: 10_000,
      allowedOrigins: ['http://localhost:8080'],
    });
    expect(c.store).toMatchObject({ url: 'memory', keyPrefix: 'bff:' });
    expect(c.session).toMatchObject({ cookieName: '__Host-bff', secrets: [SECRET], idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 12 * 3_600_000, sameSite: 'strict' });
    expect(c.session.encryptionKeys.map((k) => k.length)).toEqual([32]);
    expect(c.oidc).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_basic', scope: 'openid profile offline_access', refreshBeforeMs: 60_000, postLogoutRedirectUri: 'http://localhost:8080/' });
    expect(c.tokenSources).toEqual({});
    expect(c.routes).toEqual([]);
  });

  it('reads server.management, server.adminToken and session.maxPerUser', () => {
    const c = parseConfig(cfg({ server: { management: { port: 0 }, adminToken: SECRET }, session: { ...(base().session as Tree), maxPerUser: 3 } }), { env: {} });
    expect(c.server.management).toEqual({ host: '127.0.0.1', port: 0 });
    expect(c.server.adminToken).toBe(SECRET);
    expect(c.session.maxPerUser).toBe(3);
    expect(parseConfig(cfg({ server: { management: {} } }), { env: {} }).server.management).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(parseConfig(cfg(), { env: {} }).session.maxPerUser).toBe(0);
    expect(paths(cfg({ server: { adminToken: 'short' } }))).toEqual(['server.adminToken']);
    expect(paths(cfg({ server: { management: { port: 9090, tls: true } } }))).toEqual(['server.management.tls']);
    expect(paths(withSession({ maxPerUser: -1 }))).toEqual(['session.maxPerUser']);
  });

  it('normalises publicUrl and derives its defaults from it', () => {
    const c = parseConfig(cfg({ server: { port: '9000', publicUrl: 'https://App.example.com/' } }), { env: {} });
    expect(c.server.port).toBe(9000);
    expect(c.server.publicUrl).toBe('https://app.example.com');
    expect(c.oidc.postLogoutRedirectUri).toBe('https://app.example.com/');
  });

  it('fills route defaults; token none means no session and no csrf', () => {
    const c = parseConfig(withRoute({}, { routes: [{ prefix: '/a', upstream: 'http://u' }, { prefix: '/b', upstream: 'http://u', token: 'none' }] }), { env: {} });
    expect(c.routes[0]).toEqual({ prefix: '/a', upstream: 'http://u', rewritePrefix: '', token: 'session', requireSession: true, csrf: true, retryOn401: true, timeoutMs: 30_000, scope: undefined, soap: undefined, websocket: false, websocketMaxBytes: 1024 * 1024 });
    expect(c.routes[1]).toMatchObject({ token: 'none', requireSession: false, csrf: false });
  });

  it('accepts strings for numbers and booleans (values from ${VAR})', () => {
    const c = parseConfig(withRoute({ csrf: '${CSRF}', retryOn401: 'false' }, { server: { port: '${PORT}', trustProxy: '2' } }), { env: { PORT: '8081', CSRF: 'false' } });
    expect(c.server).toMatchObject({ port: 8081, trustProxy: 2 });
    expect(c.routes[0]).toMatchObject({ csrf: false, retryOn401: false, requireSession: true });
  });

  it('reads server.allowedOrigins (origins only) and the WebSocket keys of a route', () => {
    const c = parseConfig(withRoute({ websocket: true, websocketMaxBytes: '64kb' }, { server: { publicUrl: 'https://app.example.com', allowedOrigins: ['https://a.example.com', 'http://localhost:3000/'] } }), { env: {} });
    expect(c.server.allowedOrigins).toEqual(['https://a.example.com', 'http://localhost:3000']);
    expect(c.routes[0]).toMatchObject({ websocket: true, websocketMaxBytes: 64 * 1024 });
    expect(parseConfig(cfg({ server: { publicUrl: 'https://app.example.com' } }), { env: {} }).server.allowedOrigins).toEqual(['https://app.example.com']);
    expect(() => parseConfig(cfg({ server: { allowedOrigins: ['https://a.example.com/path'] } }), { env: {} })).toThrow(/server\.allowedOrigins\[0\]/);
  });

  it('fills soap defaults and reads version 1.2 written as a number', () => {
    const c = parseConfig(withRoute({ soap: { inject: 'wsse', version: 1.2 } }), { env: {} });
    expect(c.routes[0]?.soap).toEqual({ version: '1.2', inject: 'wsse', element: 'token', maxBytes: 1024 * 1024 });
  });

  it('reads soap.operations as local names or "{uri}local", refusing an empty list and other names', () => {
    const c = parseConfig(withRoute({ soap: { inject: 'body', operations: ['GetSecret', '{urn:ss}GetSecretsByFolder'] } }), { env: {} });
    expect(c.routes[0]?.soap?.operations).toEqual(['GetSecret', '{urn:ss}GetSecretsByFolder']);
    const bad = (operations: unknown) => problemsOf(cfg({ routes: [{ prefix: '/a', upstream: 'http://u', soap: { inject: 'body', operations } }] })).map((p) => p.path);
    expect(bad([])).toEqual(['routes[0].soap.operations']);
    expect(bad('GetSecret')).toEqual(['routes[0].soap.operations']);
    expect(bad(['GetSecret', 'ss:Bad'])).toEqual(['routes[0].soap.operations[1]']);
  });
});

describe('interpolation', () => {
  const text = (issuer: string): string => cfg({ oidc: { issuer: 'http://localhost:9000', clientId: issuer, clientSecret: 'x' } });

  it('replaces ${VAR}, ${VAR:-default} and $$', () => {
    const id = (value: string, env: NodeJS.ProcessEnv): string => parseConfig(text(value), { env }).oidc.clientId;
    expect(id('${ID}', { ID: 'from-env' })).toBe('from-env');
    expect(id('pre-${ID}-post', { ID: 'x' })).toBe('pre-x-post');
    expect(id('${ID:-fallback}', {})).toBe('fallback');
    expect(id('${ID:-fallback}', { ID: '' })).toBe('fallback');
    expect(id('${ID:-fallback}', { ID: 'set' })).toBe('set');
    expect(id('price$$5 $${ID}', { ID: 'no' })).toBe('price$5 ${ID}');
  });

  it('interpolates after parsing, so YAML-special characters in secrets are safe', () => {
    const tricky = 'a: b # c\n- "quoted" {x} [y]';
    const c = parseConfig('store: { url: memory }\nsession: { secrets: ["${S}"], encryptionKeys: ["${K}"] }\noidc: { issuer: http://i, clientId: c, clientSecret: "${S}" }\n', { env: { S: tricky + 'x'.repeat(32), K: KEY } });
    expect(c.oidc.clientSecret).toBe(tricky + 'x'.repeat(32));
  });

  it('a missing variable names the variable and the key, once, without leaking other values', () => {
    const problems = problemsOf(withSession({ secrets: ['${SESSION_SECRET}', '${OTHER_SECRET}'] }), { ...ENV });
    expect(problems).toEqual([{ path: 'session.secrets[1]', message: expect.stringContaining('OTHER_SECRET') as string }]);
    expect(problems[0]?.message).not.toContain(SECRET);
  });

  it('reports a malformed reference', () => {
    expect(paths(text('${ID'))).toEqual(['oidc.clientId']);
    expect(paths(text('${1D}'))).toEqual(['oidc.clientId']);
  });
});

describe('units', () => {
  it('parses every duration unit', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('12h')).toBe(43_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
  });

  it('rejects plain numbers and malformed durations', () => {
    for (const bad of [30, '30', '30x', 's', '-5s', '1h30m', '']) expect(() => parseDuration(bad)).toThrow(Error);
    expect(paths(withSession({ idleTimeout: 30 }))).toEqual(['session.idleTimeout']);
  });

  it('parses sizes, case-insensitive, plain integers as bytes', () => {
    expect(parseSize('100b')).toBe(100);
    expect(parseSize('512kb')).toBe(512 * 1024);
    expect(parseSize('1mb')).toBe(1024 ** 2);
    expect(parseSize('1MB')).toBe(1024 ** 2);
    expect(parseSize('2Gb')).toBe(2 * 1024 ** 3);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('4096')).toBe(4096);
    for (const bad of ['1tb', 'mb', '-1kb', '1.5', 1.5, -1]) expect(() => parseSize(bad)).toThrow(Error);
  });

  it('checks idle <= absolute timeout', () => {
    expect(paths(withSession({ idleTimeout: '13h' }))).toEqual(['session.idleTimeout']);
    expect(parseConfig(withSession({ idleTimeout: '1h', absoluteTimeout: '1h' }), { env: {} }).session.idleTimeoutMs).toBe(3_600_000);
  });
});

describe('problems', () => {
  it('reports unknown keys at every depth with their path', () => {
    const text = cfg({
      extra: 1,
      server: { colour: 'red' },
      store: { sentinel: { name: 'm', nodes: ['h:26379'], typo: true } },
      tokenSources: { ss: { tokenEndpoint: 'http://t', grant: 'password', username: 'u', password: 'p', pasword: 'p' } },
      routes: [{ prefix: '/a', upstream: 'http://u', soap: { inject: 'body', elemnt: 'x' } }],
    });
    expect(paths(text).sort()).toEqual(['extra', 'routes[0].soap.elemnt', 'server.colour', 'store.sentinel.typo', 'tokenSources.ss.pasword']);
    expect(problemsOf(text).every((p) => p.message === 'unknown key')).toBe(true);
  });

  it('reports several problems at once, with a message listing them one per line', () => {
    const text = stringify({ server: { port: 70000 }, session: { secrets: ['short'], encryptionKeys: [] }, oidc: { issuer: 'ftp://x' } });
    const expected = ['oidc.clientId', 'oidc.clientSecret', 'oidc.issuer', 'server.port', 'session.encryptionKeys', 'session.secrets[0]', 'store'];
    expect(paths(text).sort()).toEqual(expected);
    const err = errorOf(() => parseConfig(text, { env: {} }));
    expect(err.code).toBe('config_invalid');
    expect(err.message.split('\n')).toHaveLength(expected.length);
    expect(err.message).toContain('server.port: must be between 0 and 65535');
  });

  it('requires exactly one store kind', () => {
    expect(paths(cfg({ store: {} }))).toEqual(['store']);
    expect(paths(cfg({ store: { url: 'memory', cluster: { nodes: ['h:7000'] } } }))).toEqual(['store']);
    expect(paths(cfg({ store: { url: 'http://redis' } }))).toEqual(['store.url']);
    expect(paths(cfg({ store: { cluster: { nodes: ['nohost'] } } }))).toEqual(['store.cluster.nodes[0]']);
    expect(parseConfig(cfg({ store: { url: 'rediss://:pw@r:6380/1', keyPrefix: 'x:' } }), { env: {} }).store).toMatchObject({ url: 'rediss://:pw@r:6380/1', keyPrefix: 'x:' });
  });

  it('does not echo a redis URL (it may hold a password)', () => {
    expect(problemsOf(cfg({ store: { url: 'mysql://:hunter2@db' } }))[0]?.message).not.toContain('hunter2');
  });

  it('requires publicUrl when port is 0', () => {
    expect(paths(cfg({ server: { port: 0 } }))).toEqual(['server.publicUrl']);
    expect(parseConfig(cfg({ server: { port: 0, publicUrl: 'http://localhost:1234' } }), { env: {} }).server.port).toBe(0);
  });

  it('refuses a zero server.requestTimeout and server.maxConnections, and reads others', () => {
    expect(paths(cfg({ server: { requestTimeout: '0s', maxConnections: 0 } })).sort()).toEqual(['server.maxConnections', 'server.requestTimeout']);
    expect(parseConfig(cfg({ server: { requestTimeout: '5m', maxConnections: 50 } }), { env: {} }).server)
      .toMatchObject({ requestTimeoutMs: 300_000, maxConnections: 50 });
  });

  it('turns YAML syntax errors into problems with the line number', () => {
    const problems = problemsOf('store:\n  url: memory\nsession: [unclosed\noidc: {}\n');
    expect(problems[0]?.path).toBe('(yaml)');
    expect(problems[0]?.message).toMatch(/^line \d+/);
  });
});

describe('session cookie', () => {
  const name = (publicUrl: string, cookieName?: string): string =>
    parseConfig(cfg({ server: { publicUrl }, session: { ...(base().session as Tree), cookieName } }), { env: {} }).session.cookieName;

  it('defaults to __Host-bff, or bff on plain http to a non-loopback host', () => {
    expect(name('http://localhost:8080')).toBe('__Host-bff');
    expect(name('http://127.0.0.1:8080')).toBe('__Host-bff');
    expect(name('http://[::1]:8080')).toBe('__Host-bff');
    expect(name('https://app.example.com')).toBe('__Host-bff');
    expect(name('http://app.internal')).toBe('bff');
  });

  it('refuses the __Host-/__Secure- prefixes where browsers would drop them', () => {
    expect(paths(cfg({ server: { publicUrl: 'http://app.internal' }, session: { ...(base().session as Tree), cookieName: '__Host-x' } }))).toEqual(['session.cookieName']);
    expect(paths(cfg({ server: { publicUrl: 'http://10.0.0.5:8080' }, session: { ...(base().session as Tree), cookieName: '__Secure-x' } }))).toEqual(['session.cookieName']);
    expect(name('https://app.example.com', '__Secure-x')).toBe('__Secure-x');
    expect(name('http://app.internal', 'sid')).toBe('sid');
  });

  it('requires a valid cookie token', () => {
    expect(paths(withSession({ cookieName: 'a b' }))).toEqual(['session.cookieName']);
    expect(paths(withSession({ cookieName: 'a;b' }))).toEqual(['session.cookieName']);
  });
});

describe('session keys', () => {
  it('requires 32-byte base64 encryption keys, standard or url-safe', () => {
    expect(paths(withSession({ encryptionKeys: [KEY, Buffer.alloc(16).toString('base64')] }))).toEqual(['session.encryptionKeys[1]']);
    expect(paths(withSession({ encryptionKeys: [Buffer.alloc(33).toString('base64')] }))).toEqual(['session.encryptionKeys[0]']);
    expect(paths(withSession({ encryptionKeys: ['not base64!'] }))).toEqual(['session.encryptionKeys[0]']);
    const urlSafe = Buffer.alloc(32, 0xfb).toString('base64url');
    expect(urlSafe).toMatch(/[-_]/);
    const keys = parseConfig(withSession({ encryptionKeys: [urlSafe, KEY] }), { env: {} }).session.encryptionKeys;
    expect(keys[0]?.equals(Buffer.alloc(32, 0xfb))).toBe(true);
    expect(keys[1]?.equals(Buffer.alloc(32, 7))).toBe(true);
  });

  it('requires non-empty secrets of at least 32 characters', () => {
    expect(paths(withSession({ secrets: [] }))).toEqual(['session.secrets']);
    expect(paths(withSession({ secrets: [SECRET, 'x'.repeat(31)] }))).toEqual(['session.secrets[1]']);
    expect(paths(cfg({ session: { encryptionKeys: [KEY] } }))).toEqual(['session.secrets']);
  });
});

describe('oidc', () => {
  const oidc = (o: Tree): string => cfg({ oidc: { issuer: 'https://idp.example/realms/x/', clientId: 'bff', ...o } });

  it('keeps the issuer as written and requires a secret for secret-based methods', () => {
    expect(parseConfig(oidc({ clientSecret: 's' }), { env: {} }).oidc.issuer).toBe('https://idp.example/realms/x/');
    expect(paths(oidc({ tokenEndpointAuthMethod: 'client_secret_post' }))).toEqual(['oidc.clientSecret']);
    expect(parseConfig(oidc({ tokenEndpointAuthMethod: 'none' }), { env: {} }).oidc.clientSecret).toBeUndefined();
    expect(paths(oidc({ clientSecret: 's', scope: 'profile email' }))).toEqual(['oidc.scope']);
  });

  it('resolves privateKeyFile against the base directory and checks it is JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bff-config-'));
    writeFileSync(join(dir, 'key.json'), JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }));
    writeFileSync(join(dir, 'bad.json'), 'not json');
    const text = (file: string): string => oidc({ tokenEndpointAuthMethod: 'private_key_jwt', privateKeyFile: file });
    expect(parseConfig(text('./key.json'), { env: {}, baseDir: dir }).oidc.privateKeyFile).toBe(join(dir, 'key.json'));
    for (const bad of ['./bad.json', './missing.json']) {
      expect(errorOf(() => parseConfig(text(bad), { env: {}, baseDir: dir })).problems).toEqual([{ path: 'oidc.privateKeyFile', message: expect.stringContaining(join(dir, bad.slice(2))) as string }]);
    }
    expect(paths(oidc({ tokenEndpointAuthMethod: 'private_key_jwt' }))).toEqual(['oidc.privateKeyFile']);
  });

  it('reads tokenConcurrency as a positive whole number, 16 by default', () => {
    expect(parseConfig(oidc({ clientSecret: 's' }), { env: {} }).oidc.tokenConcurrency).toBe(16);
    expect(parseConfig(oidc({ clientSecret: 's', tokenConcurrency: 2 }), { env: {} }).oidc.tokenConcurrency).toBe(2);
    expect(parseConfig(oidc({ clientSecret: 's', tokenConcurrency: '4' }), { env: {} }).oidc.tokenConcurrency).toBe(4);
    for (const bad of [0, -1, 1.5, 'many', true]) {
      expect(problemsOf(oidc({ clientSecret: 's', tokenConcurrency: bad }))).toEqual([{
        path: 'oidc.tokenConcurrency',
        message: 'must be a whole number of at least 1 (token endpoint requests in flight at once per instance)',
      }]);
    }
  });
});

describe('token sources and routes', () => {
  const source = { tokenEndpoint: 'https://ss/token', grant: 'client_credentials', clientId: 'c', clientSecret: 's' };

  it('fills token source defaults and checks grant requirements', () => {
    const c = parseConfig(withRoute({ token: 'ss' }, { tokenSources: { ss: source } }), { env: {} });
    expect(c.tokenSources.ss).toMatchObject({ grant: 'client_credentials', maxRefreshes: 10, refreshBeforeMs: 60_000 });
    expect(c.routes[0]).toMatchObject({ token: 'ss', requireSession: true, csrf: true });
    expect(paths(cfg({ tokenSources: { ss: { tokenEndpoint: 'https://ss/token', grant: 'password', maxRefreshes: -1 } } })).sort())
      .toEqual(['tokenSources.ss.maxRefreshes', 'tokenSources.ss.password', 'tokenSources.ss.username']);
    expect(paths(cfg({ tokenSources: { none: source } }))).toEqual(['tokenSources.none']);
  });

  it('reports a route naming an unknown token source', () => {
    const problems = problemsOf(withRoute({ token: 'vault' }, { tokenSources: { ss: source } }));
    expect(problems).toEqual([{ path: 'routes[0].token', message: expect.stringContaining('vault') as string }]);
  });

  it('takes a route scope on token: session routes only', () => {
    expect(parseConfig(withRoute({ scope: 'orders.read' }), { env: {} }).routes[0]?.scope).toBe('orders.read');
    const problems = problemsOf(withRoute({ token: 'ss', scope: 'orders.read' }, { tokenSources: { ss: source } }));
    expect(problems).toEqual([{ path: 'routes[0].scope', message: expect.stringContaining('token: session') as string }]);
    expect(paths(withRoute({ token: 'none', scope: 'orders.read' }))).toEqual(['routes[0].scope']);
  });

  it('validates prefixes, duplicates, upstreams and soap settings', () => {
    const routes = [
      { prefix: '/a', upstream: 'http://u' },
      { prefix: '/a', upstream: 'http://u' },
      { prefix: 'b/', upstream: 'ftp://u' },
      { prefix: '/c/*', upstream: 'http://u', soap: { inject: 'somewhere', element: '{urn:x}1bad' } },
      { prefix: '/', upstream: 'http://u', soap: { inject: 'header', element: '{urn:x}Token', version: 1.1, maxBytes: '64kb' } },
    ];
    expect(paths(cfg({ routes })).sort()).toEqual([
      'routes[1].prefix', 'routes[2].prefix', 'routes[2].upstream', 'routes[3].prefix', 'routes[3].soap.element', 'routes[3].soap.inject',
    ]);
    expect(problemsOf(cfg({ routes }))[0]).toEqual({ path: 'routes[1].prefix', message: 'duplicates routes[0].prefix' });
  });
});

describe('files', () => {
  const example = fileURLToPath(new URL('../../config/gateway.example.yaml', import.meta.url));
  const env = { ...ENV, SS_USER: 'svc', SS_PASSWORD: 'pw' };

  it('loads the example with its environment set', () => {
    const c = loadConfigFile(example, env);
    expect(c.store.url).toBe('redis://127.0.0.1:6379/0');
    expect(c.oidc.clientSecret).toBe('client-secret');
    expect(c.tokenSources['secret-server']).toMatchObject({ username: 'svc', password: 'pw', grant: 'password' });
    expect(c.routes.map((r) => r.prefix)).toEqual(['/api/orders', '/api/secrets', '/public', '/soap/secrets']);
    expect(c.routes[3]?.soap).toEqual({ version: 'auto', inject: 'body', element: 'token', maxBytes: 1024 ** 2 });
  });

  it('names every missing variable of the example', () => {
    const { message } = errorOf(() => loadConfigFile(example, {}));
    for (const name of ['SESSION_SECRET', 'SESSION_KEY', 'OIDC_CLIENT_SECRET', 'SS_USER', 'SS_PASSWORD']) expect(message).toContain(name);
    expect(message).not.toContain('REDIS_URL');
  });

  it('reports an unreadable file at (file)', () => {
    expect(errorOf(() => loadConfigFile('/nonexistent/gateway.yaml')).problems)
      .toEqual([{ path: '(file)', message: expect.stringContaining('/nonexistent/gateway.yaml') as string }]);
  });
});
