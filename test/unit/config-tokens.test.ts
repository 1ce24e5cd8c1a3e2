import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';

// The keys of sender-constrained and audience-specific tokens: oidc.dpop (dpopAlgs) and oidc.par,
// tokenSources grant jwt_bearer with its assertion, routes[].exchange, soap.tokenType.

const KEY = Buffer.alloc(32, 7).toString('base64');
const SECRET = 's'.repeat(32);
const SAML2 = 'urn:ietf:params:oauth:token-type:saml2';
type Tree = Record<string, unknown>;
const base = (over: Tree = {}): string => stringify({
  store: { url: 'memory' },
  session: { secrets: [SECRET], encryptionKeys: [KEY] },
  oidc: { issuer: 'http://localhost:9000', clientId: 'bff', clientSecret: 'x' },
  ...over,
});
const route = (r: Tree): string => base({ routes: [{ prefix: '/api', upstream: 'http://127.0.0.1:9101', ...r }] });

function problems(text: string, baseDir?: string): string[] {
  try {
    parseConfig(text, { env: {}, ...(baseDir ? { baseDir } : {}) });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('token keys of the configuration', () => {
  it('defaults dpop and par to false and reads them', () => {
    expect(parseConfig(base(), { env: {} }).oidc).toMatchObject({ dpop: false, par: false });
    const on = base({ oidc: { issuer: 'http://localhost:9000', clientId: 'bff', clientSecret: 'x', dpop: true, par: 'true' } });
    expect(parseConfig(on, { env: {} }).oidc).toMatchObject({ dpop: true, par: true });
  });

  it('defaults dpopAlgs to ES256 (ECDSA, what resource servers take), and takes only Ed25519 and ES256', () => {
    const oidc = (extra: Tree) => base({ oidc: { issuer: 'http://localhost:9000', clientId: 'bff', clientSecret: 'x', dpop: true, ...extra } });
    expect(parseConfig(base(), { env: {} }).oidc.dpopAlgs).toEqual(['ES256']);
    expect(parseConfig(oidc({ dpopAlgs: ['ES256'] }), { env: {} }).oidc.dpopAlgs).toEqual(['ES256']);
    expect(problems(oidc({ dpopAlgs: ['RS256'] }))[0]).toMatch(/^oidc\.dpopAlgs\[0\]: must be one of/);
    expect(problems(oidc({ dpopAlgs: [] }))).toEqual(['oidc.dpopAlgs: must not be empty']);
  });

  it('reads a jwt_bearer source with its assertion (keyFile relative to the config) and refuses one without', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bff-cfg-'));
    writeFileSync(join(dir, 'svc.jwk.json'), JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }));
    writeFileSync(join(dir, 'public.jwk.json'), JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }));
    const source = (extra: Tree) => base({ tokenSources: { svc: { tokenEndpoint: 'http://idp/token', grant: 'jwt_bearer', ...extra } } });
    const assertion = { subject: 'svc', audience: 'http://idp/token', keyFile: 'svc.jwk.json' };
    const config = parseConfig(source({ assertion }), { env: {}, baseDir: dir });
    expect(config.tokenSources.svc?.assertion).toEqual({ ...assertion, keyFile: join(dir, 'svc.jwk.json'), lifetimeMs: 300_000 });
    expect(problems(source({}), dir)).toEqual(['tokenSources.svc.assertion: is required with grant jwt_bearer']);
    expect(problems(source({ assertion: { ...assertion, keyFile: 'public.jwk.json' } }), dir)[0]).toMatch(/no private key/);
    const password = base({ tokenSources: { p: { tokenEndpoint: 'http://idp/token', grant: 'password', username: 'u', password: 'p', assertion } } });
    expect(problems(password, dir)).toEqual(['tokenSources.p.assertion: is only used with grant jwt_bearer']);
  });

  it('reads routes[].exchange with its defaults, on session routes only', () => {
    const config = parseConfig(route({ exchange: { audience: 'https://orders' } }), { env: {} });
    expect(config.routes[0]?.exchange).toEqual({ audience: 'https://orders', requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token' });
    expect(problems(route({ token: 'none', exchange: { audience: 'a' } }))[0]).toMatch(/^routes\[0\]\.exchange: applies to token: session/);
    expect(problems(route({ exchange: { audience: 'a', requestedTokenType: 'saml2' } }))[0]).toMatch(/requestedTokenType: must be a token type URI/);
    expect(problems(route({ exchange: {} }))).toEqual(['routes[0].exchange.audience: is required']);
  });

  it('takes soap.tokenType saml2 with inject wsse and a saml2 exchange only', () => {
    const exchange = { audience: 'urn:soap', requestedTokenType: SAML2 };
    expect(parseConfig(route({ soap: { inject: 'wsse', tokenType: 'saml2' }, exchange }), { env: {} }).routes[0]?.soap?.tokenType).toBe('saml2');
    expect(problems(route({ soap: { inject: 'body', tokenType: 'saml2' }, exchange }))).toEqual(['routes[0].soap.tokenType: saml2 goes with inject: wsse only']);
    expect(problems(route({ soap: { inject: 'wsse', tokenType: 'saml2' } }))[0]).toMatch(/^routes\[0\]\.soap: saml2 needs exchange.requestedTokenType/);
    expect(problems(route({ soap: { inject: 'wsse', tokenType: 'jwt' } }))[0]).toMatch(/^routes\[0\]\.soap\.tokenType/);
  });
});
