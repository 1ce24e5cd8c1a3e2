import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { routedPath } from '../../src/proxy/request-path.js';
import { isOriginForm } from '../../src/proxy/request-target.js';
import { Upstream } from '../../src/proxy/upstream.js';

// Where a request goes upstream and what a Location header becomes: the rules of
// @fastify/http-proxy, which configurations were written against.

const upstream = (prefix: string, url: string, rewritePrefix = '') => new Upstream({ prefix, upstream: url, rewritePrefix, timeoutMs: 1000 });

describe('Upstream paths', () => {
  const cases: Array<[string, string, string, string, string]> = [
    // prefix, upstream, rewritePrefix, request URL, upstream path
    ['/api', 'http://127.0.0.1:1', '', '/api/orders/7?page=2', '/orders/7?page=2'],
    ['/api', 'http://127.0.0.1:1', '', '/api', '/'],
    ['/api', 'http://127.0.0.1:1', '', '/api?x=1', '/?x=1'],
    ['/api', 'http://127.0.0.1:1', '', '/api/', '/'],
    ['/api/orders', 'http://127.0.0.1:1', '/orders', '/api/orders/7', '/orders/7'],
    ['/soap', 'http://127.0.0.1:1/SSWebService.asmx', '', '/soap', '/SSWebService.asmx'],
    ['/soap', 'http://127.0.0.1:1/SSWebService.asmx', '', '/soap?wsdl', '/SSWebService.asmx?wsdl'],
    ['/', 'http://127.0.0.1:1', '', '/x/y?z', '/x/y?z'],
    ['/', 'http://127.0.0.1:1', '', '/', '/'],
  ];
  it.each(cases)('prefix %s → %s (rewritePrefix "%s"): %s goes to %s', async (prefix, url, rewrite, request, expected) => {
    const u = upstream(prefix, url, rewrite);
    expect(u.path(request)).toBe(expected);
    await u.close();
  });

  it.each(['/api/../admin', '/api/a/%2e%2e/admin', '/api/a/%2E%2E', '/api/..\\admin', '/api/%zz/..'])('refuses %s (400)', async (request) => {
    const u = upstream('/api', 'http://127.0.0.1:1');
    expect(() => u.path(request)).toThrow(GatewayError);
    try {
      u.path(request);
    } catch (e) {
      expect((e as GatewayError).status).toBe(400);
    }
    await u.close();
  });

  it('keeps dots that are not segments of their own', async () => {
    const u = upstream('/api', 'http://127.0.0.1:1');
    expect(u.path('/api/file.v2..json')).toBe('/file.v2..json');
    expect(u.path('/api/.../..a/a..;x/.well-known')).toBe('/.../..a/a..;x/.well-known');
    expect(u.path('/api/x?to=../../etc&y=%2e%2e')).toBe('/x?to=../../etc&y=%2e%2e');
    await u.close();
  });

  it('turns a relative Location back into the gateway prefix and drops hop-by-hop headers', async () => {
    const u = upstream('/api/orders', 'http://127.0.0.1:1', '/orders');
    const headers = u.responseHeaders({ location: '/orders/8', connection: 'keep-alive', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', etag: '"1"' });
    expect(headers).toEqual({ location: '/api/orders/8', etag: '"1"' });
    expect(u.responseHeaders({ location: 'https://elsewhere.example/orders/8' }).location).toBe('https://elsewhere.example/orders/8');
    await u.close();
  });
});

describe('Upstream paths are cut from the routed path, not the raw target', () => {
  // routes /api (rewritePrefix "") and /api/orders (rewritePrefix /orders): routing sends
  // /api/%6Frders/x to /api/orders, whose upstream must get /orders/x, not a cut of the raw text
  const cases: Array<[string, string, string, string]> = [
    // prefix, rewritePrefix, request URL, upstream path
    ['/api/orders', '/orders', '/api/%6Frders/x', '/orders/x'],
    ['/api/orders', '/orders', '/%61pi/%6f%72ders/7?page=%32', '/orders/7?page=%32'],
    ['/api/orders', '/orders', '/api/%6Frders?code=%41&x=%2e%2e', '/orders?code=%41&x=%2e%2e'],
    ['/api/orders', '', '/api/%6Frders/x', '/x'],
    ['/api', '', '/api/%6Frders/x', '/orders/x'],
    // characters routing kept encoded stay as sent; others are written with upper-case hex
    ['/api', '', '/api/a%2Fb%3F%23%25', '/a%2Fb%3F%23%25'],
    ['/api', '', '/api/%2525', '/%2525'],
    ['/api', '', '/api/a%20b/caf%c3%a9/%7e%21', '/a%20b/caf%C3%A9/~!'],
    ['/', '', '/%78/y?q=%20', '/x/y?q=%20'],
  ];
  it.each(cases)('prefix %s (rewritePrefix "%s"): %s goes to %s', async (prefix, rewrite, request, expected) => {
    const u = upstream(prefix, 'http://127.0.0.1:1', rewrite);
    expect(u.path(request)).toBe(expected);
    await u.close();
  });

  it.each([
    '/api/..;/admin', '/api/..;jsessionid=1/admin', '/api/%2e%2e;x/admin', '/api/..%3b/admin', '/api/.%2e/admin', '/api/%2E./admin',
    '/api/%252e%252e/admin', '/api/%25252e%25252e/admin', '/api/..%5cadmin', '/api/x/..%2fadmin', '/api/x/%2e%2e%5c', '/api/..',
    'http://other.host/api/x', '*', '/apix', '/api%2Fx',
  ])('refuses %s (400)', async (request) => {
    const u = upstream('/api', 'http://127.0.0.1:1');
    expect(() => u.path(request)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_request' }));
    await u.close();
  });

  it('never cuts a sibling: a path that does not start with the prefix as routed is refused', async () => {
    const u = upstream('/api/orders', 'http://127.0.0.1:1', '/orders');
    for (const target of ['/api/ordersx', '/api/%6Frdersx/y', '/api/%2Forders/x']) expect(() => u.path(target)).toThrow(GatewayError);
    await u.close();
  });

  it('routedPath decodes as find-my-way routes (generated paths)', () => {
    const require = createRequire(import.meta.url);
    const { safeDecodeURI } = require('find-my-way/lib/url-sanitizer.js') as { safeDecodeURI: (p: string) => { path: string } };
    const parts = ['/', 'a', 'api', '.', '%2e', '%2E', '%2f', '%2F', '%25', '%2525', '%41', '%6F', '%6f', '%20', '%c3%a9', ';', '%3b', '~', '%7e', '!', '%21', '\\', '%5c', '%00', '%3F', '%23', '%40', '%2b', "'", '%27', '%5B'];
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let run = 0; run < 5000; run++) {
      let path = '/';
      for (let k = random(8); k >= 0; k--) path += parts[random(parts.length)];
      const expected = safeDecodeURI(path).path;
      const routed = routedPath(path, path.length);
      expect(safeDecodeURI(routed).path, path).toBe(expected);
      expect(routedPath(routed, routed.length), path).toBe(routed); // stable
    }
  });
});

describe('isOriginForm', () => {
  it.each(['/', '/api/x?y=1', '//double'])('accepts %s', (url) => expect(isOriginForm(url)).toBe(true));
  it.each(['http://other.host/api/x', 'HTTPS://h/x', '*', 'api/x', '', '/a#frag', '/a?b#c'])('refuses %j', (url) => expect(isOriginForm(url)).toBe(false));
});
