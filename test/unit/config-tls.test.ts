import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { createPki, type CertFiles, type TestPki } from '../helpers/certs.js';

// The `tls:` sections are checked when the configuration loads: unreadable files, a key
// that is not the certificate's, a certificate without its key, tls on a plain http
// upstream and RFC 8705 client authentication without a client certificate are
// configuration errors (exit 2) naming the key.

const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = 's'.repeat(32);
let pki: TestPki;
let server: CertFiles;
let client: CertFiles;

beforeAll(() => {
  pki = createPki();
  server = pki.issue('server');
  client = pki.issue('client', { usage: 'client' });
});
afterAll(() => pki.close());

type Tree = Record<string, unknown>;
function load(over: Tree): ReturnType<typeof parseConfig> {
  const base: Tree = {
    store: { url: 'memory' },
    session: { secrets: [SECRET], encryptionKeys: [KEY] },
    oidc: { issuer: 'https://idp.internal', clientId: 'bff', clientSecret: 'x' },
  };
  return parseConfig(stringify({ ...base, ...over }), { env: {}, baseDir: pki.dir });
}
function problems(over: Tree): string[] {
  try {
    load(over);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path}: ${p.message}`);
    throw err;
  }
  return [];
}
const route = (tls: Tree, upstream = 'https://127.0.0.1:9443') => ({ routes: [{ prefix: '/api', upstream, tls }] });

describe('tls sections', () => {
  it('accepts every section with readable, matching files (paths relative to the config file)', () => {
    const config = load({
      server: { port: 8443, tls: { cert: 'server.crt', key: 'server.key' } },
      store: { url: 'rediss://127.0.0.1:6380', tls: { ca: 'ca.crt', cert: 'client.crt', key: 'client.key' } },
      oidc: { issuer: 'https://idp.internal', clientId: 'bff', tokenEndpointAuthMethod: 'tls_client_auth', tls: { ca: 'ca.crt', cert: 'client.crt', key: 'client.key' } },
      tokenSources: { ss: { tokenEndpoint: 'https://ss.internal/token', grant: 'client_credentials', clientId: 'c', clientSecret: 's', tls: { ca: 'ca.crt' } } },
      ...route({ ca: 'ca.crt', cert: 'client.crt', key: 'client.key', servername: 'orders.internal' }),
    });
    expect(config.server.tls).toEqual({ cert: server.cert, key: server.key });
    expect(config.server.publicUrl).toBe('https://localhost:8443');
    expect(config.store.tls).toEqual({ ca: pki.ca, cert: client.cert, key: client.key });
    expect(config.oidc.tls?.cert).toBe(client.cert);
    expect(config.tokenSources.ss?.tls).toEqual({ ca: pki.ca });
    expect(config.routes[0]?.tls).toEqual({ ca: pki.ca, cert: client.cert, key: client.key, servername: 'orders.internal' });
  });

  it('names the key of an unreadable file', () => {
    expect(problems(route({ ca: 'missing-ca.crt' }))).toEqual([expect.stringMatching(/^routes\[0\]\.tls\.ca: cannot read .*missing-ca\.crt \(ENOENT\)$/)]);
    expect(problems({ server: { port: 8443, tls: { cert: 'server.crt', key: 'nope.key' } } }))
      .toEqual([expect.stringMatching(/^server\.tls\.key: cannot read/)]);
  });

  it('names the key when it is not the certificate\'s own', () => {
    const found = problems({ server: { port: 8443, tls: { cert: 'server.crt', key: 'client.key' } } });
    expect(found).toEqual([expect.stringMatching(/^server\.tls\.key: .*client\.key is not the private key of the certificate in .*server\.crt$/)]);
  });

  it('refuses a file that is not PEM, a certificate without its key, and tls on http://', () => {
    expect(problems(route({ ca: 'server.key' }))).toEqual([expect.stringMatching(/^routes\[0\]\.tls\.ca: .*holds no PEM certificate/)]);
    expect(problems(route({ key: 'ca.crt', cert: 'server.crt' }))).toEqual([expect.stringMatching(/^routes\[0\]\.tls\.key: .*no readable private key/)]);
    expect(problems(route({ cert: 'client.crt' }))).toEqual([expect.stringMatching(/^routes\[0\]\.tls\.key: cert and key go together/)]);
    expect(problems(route({ ca: 'ca.crt' }, 'http://127.0.0.1:9101'))).toEqual(['routes[0].tls: applies to https:// upstreams only']);
    expect(problems(route({ ca: 'ca.crt', insecureSkipVerify: true }))).toEqual(['routes[0].tls.insecureSkipVerify: unknown key']);
    expect(problems({ store: { url: 'redis://127.0.0.1:6379', tls: { ca: 'ca.crt' } } })).toEqual(['store.tls: needs a rediss:// store.url (or Sentinel or Cluster)']);
  });

  it('presents the IdP client certificate on token: session https routes without one of their own (bound tokens)', () => {
    const config = load({
      oidc: { issuer: 'https://idp.internal', clientId: 'bff', tokenEndpointAuthMethod: 'tls_client_auth', tls: { ca: 'ca.crt', cert: 'client.crt', key: 'client.key' } },
      routes: [
        { prefix: '/session', upstream: 'https://a.internal', tls: { ca: 'ca.crt' } },
        { prefix: '/default-trust', upstream: 'https://b.internal' },
        { prefix: '/own', upstream: 'https://c.internal', tls: { cert: 'server.crt', key: 'server.key' } },
        { prefix: '/anonymous', upstream: 'https://d.internal', token: 'none' },
        { prefix: '/plain', upstream: 'http://e.internal' },
      ],
    });
    const tls = Object.fromEntries(config.routes.map((r) => [r.prefix, r.tls]));
    expect(tls['/session']).toEqual({ ca: pki.ca, cert: client.cert, key: client.key });
    expect(tls['/default-trust']).toEqual({ cert: client.cert, key: client.key });
    expect(tls['/own']).toEqual({ cert: server.cert, key: server.key });
    expect(tls['/anonymous']).toBeUndefined();
    expect(tls['/plain']).toBeUndefined();
  });

  it('needs a client certificate for RFC 8705 client authentication', () => {
    const oidc = (extra: Tree) => ({ oidc: { issuer: 'https://idp.internal', clientId: 'bff', tokenEndpointAuthMethod: 'self_signed_tls_client_auth', ...extra } });
    expect(problems(oidc({}))).toEqual([expect.stringMatching(/^oidc\.tls: is required with tokenEndpointAuthMethod self_signed_tls_client_auth/)]);
    expect(problems(oidc({ tls: { ca: 'ca.crt' } }))).toEqual([expect.stringMatching(/^oidc\.tls: needs cert and key/)]);
    expect(problems(oidc({ clientSecret: 'x', tls: { cert: 'client.crt', key: 'client.key' } }))).toEqual([expect.stringMatching(/^oidc\.clientSecret: is only used/)]);
  });
});
