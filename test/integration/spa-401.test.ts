import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiringSession } from '../helpers/instances.js';
import { startStack, type Stack } from '../helpers/stack.js';

// The SPA's 401 contract: every 401 the gateway answers for a session (JSON or SOAP Fault)
// carries `WWW-Authenticate: BFF-Session error="<code>", login_uri="/auth/login"`, so an SPA
// tells it from an upstream's own 401 and knows why, without guessing. The bodies stay.

const CHALLENGE = (code: string) => `BFF-Session error="${code}", login_uri="/auth/login"`;
const ENVELOPE = '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetSecret xmlns="urn:x"><token/></GetSecret></soap:Body></soap:Envelope>';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    routes: (url) => [
      { prefix: '/api', upstream: url },
      { prefix: '/soap', upstream: url, soap: { inject: 'body', element: 'token' } },
    ],
  });
});

afterAll(async () => stack?.close());

describe('401 from the gateway', () => {
  it('unauthenticated (no session): JSON on /auth/user and a proxied route, a Fault on a SOAP route, each with the challenge', async () => {
    for (const path of ['/auth/user', '/api/x', '/auth/sessions']) {
      const res = await fetch(`${stack.gw.url}${path}`, { headers: { 'x-csrf': '1' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE('unauthenticated'));
      expect(await res.json()).toEqual({ error: 'unauthenticated' });
    }
    const soap = await fetch(`${stack.gw.url}/soap`, {
      method: 'POST',
      headers: { 'x-csrf': '1', 'content-type': 'text/xml; charset=utf-8', soapaction: '"urn:x/GetSecret"' },
      body: ENVELOPE,
    });
    expect(soap.status).toBe(401);
    expect(soap.headers.get('www-authenticate')).toBe(CHALLENGE('unauthenticated'));
    expect(await soap.text()).toContain('unauthenticated');
  });

  it('session_expired (the IdP refused the refresh): the challenge says so', async () => {
    const cookie = await expiringSession(stack.idp, stack.gw.url);
    stack.idp.faults.setTokenEndpointFailure(400, { error: 'invalid_grant', error_description: 'grant revoked' });
    try {
      const res = await fetch(`${stack.gw.url}/api/x`, { headers: { 'x-csrf': '1', cookie } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE('session_expired'));
      expect(await res.json()).toEqual({ error: 'session_expired' });
    } finally {
      stack.idp.faults.setTokenEndpointFailure(null);
    }
  });

  it('an upstream\'s own 401 passes without the gateway\'s challenge', async () => {
    const { loginThroughGateway } = await import('../helpers/login.js');
    const { sessionCookie } = await loginThroughGateway(stack.gw.url);
    stack.upstream.respond((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"not_yours"}');
    });
    const res = await fetch(`${stack.gw.url}/api/x`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBeNull();
  });
});
