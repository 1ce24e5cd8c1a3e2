import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
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
