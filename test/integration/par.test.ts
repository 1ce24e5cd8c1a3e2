import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/instances.js';
import { CookieJar, loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// oidc.par: true against oidc-provider's pushed authorization requests (RFC 9126): the
// authorization request goes to the IdP by back channel; the browser only carries the
// client_id and the request_uri the IdP gave for it.

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    idp: { accessTokenTtl: 3600 },
    routes: (url) => [{ prefix: '/api', upstream: url }],
    gateway: { config: { oidc: { par: true } } },
  });
});

afterAll(async () => stack?.close());

describe('pushed authorization requests', () => {
  it('sends the browser to the IdP with a request_uri only, and the login completes', async () => {
    const jar = new CookieJar();
    const start = await jar.fetch(`${stack.gw.url}/auth/login`);
    expect(start.status).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect([...location.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(location.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);

    const { sessionCookie } = await loginThroughGateway(stack.gw.url);
    expect((await call(`${stack.gw.url}/api/x`, sessionCookie)).status).toBe(200);
  });
});
