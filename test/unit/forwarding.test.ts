import { describe, expect, it } from 'vitest';
import { forwardHeaders } from '../../src/proxy/forward-headers.js';
import { connectionNamed, forwardedHeader, forwardedNode, tokenOrQuoted } from '../../src/proxy/forwarding-syntax.js';
import { withoutOwnCookies } from '../../src/proxy/response-cookies.js';
import { Upstream } from '../../src/proxy/upstream.js';

// The forwarding headers the gateway writes (RFC 7239 Forwarded, X-Real-IP), what it never
// passes on (Proxy-Authorization, the headers Connection names), and the upstream's
// Set-Cookie lines for the gateway's own cookies.

const request = { ip: '10.0.0.9', protocol: 'https', host: 'app.example', socket: { remoteAddress: '10.0.0.9' } };
const base = { isOwnCookie: (n: string) => n === 'bff', trustProxy: false, sendsToken: true, accessToken: 'AT' };

describe('Forwarded syntax (RFC 7239)', () => {
  it('writes IPv4 as a token, IPv6 quoted in brackets, anything else as unknown', () => {
    expect(forwardedNode('192.0.2.60')).toBe('192.0.2.60');
    expect(forwardedNode('2001:db8:cafe::17')).toBe('"[2001:db8:cafe::17]"');
    expect(forwardedNode('::ffff:127.0.0.1')).toBe('"[::ffff:127.0.0.1]"');
    expect(forwardedNode('junk"x')).toBe('unknown');
    expect(forwardedNode(undefined)).toBe('unknown');
  });
  it('quotes a host with a port, escapes quotes and backslashes', () => {
    expect(tokenOrQuoted('app.example')).toBe('app.example');
    expect(tokenOrQuoted('app.example:8443')).toBe('"app.example:8443"');
    expect(tokenOrQuoted('[::1]:80')).toBe('"[::1]:80"');
    expect(tokenOrQuoted('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
  it('one element per address, client first; host and proto on the first', () => {
    expect(forwardedHeader('10.0.0.9', 'https', 'app.example')).toBe('for=10.0.0.9;host=app.example;proto=https');
    expect(forwardedHeader('::1', 'http', '127.0.0.1:8080')).toBe('for="[::1]";host="127.0.0.1:8080";proto=http');
    expect(forwardedHeader(['1.2.3.4', '2001:db8::1', '10.0.0.9'], 'https', 'app.example')).toBe(
      'for=1.2.3.4;host=app.example;proto=https, for="[2001:db8::1]", for=10.0.0.9',
    );
    // the remembered value follows a change of any part
    expect(forwardedHeader('10.0.0.9', 'https', 'other.example')).toBe('for=10.0.0.9;host=other.example;proto=https');
    expect(forwardedHeader('10.0.0.8', 'https', 'other.example')).toBe('for=10.0.0.8;host=other.example;proto=https');
  });
});

describe('connectionNamed', () => {
  it('lists the named headers, lower-cased, without keep-alive and close', () => {
    expect(connectionNamed(undefined)).toBeUndefined();
    expect(connectionNamed('keep-alive')).toBeUndefined();
    expect(connectionNamed('Close')).toBeUndefined();
    expect(connectionNamed('keep-alive, X-Secret-Hop,  x-other ,')).toEqual(['x-secret-hop', 'x-other']);
    expect(connectionNamed(['close', 'X-A'])).toEqual(['x-a']);
  });
});

describe('forwardHeaders: forwarding headers', () => {
  it('replaces a client Forwarded and X-Real-IP without trustProxy', () => {
    const out = forwardHeaders(request, { forwarded: 'for=6.6.6.6;host=evil', 'x-real-ip': '6.6.6.6' }, base);
    expect(out.forwarded).toBe('for=10.0.0.9;host=app.example;proto=https');
    expect(out['x-real-ip']).toBe('10.0.0.9');
  });
  it('mirrors the trusted X-Forwarded-For chain behind a trusted proxy', () => {
    const behindProxy = { ...request, ip: '1.2.3.4', ips: ['10.0.0.9', '2001:db8::7', '1.2.3.4'] };
    const out = forwardHeaders(behindProxy, { 'x-forwarded-for': '6.6.6.6, 1.2.3.4, 2001:db8::7', forwarded: 'for=6.6.6.6', 'x-real-ip': '6.6.6.6' }, { ...base, trustProxy: true });
    expect(out['x-forwarded-for']).toBe('1.2.3.4, 2001:db8::7, 10.0.0.9');
    expect(out['x-real-ip']).toBe('1.2.3.4');
    expect(out.forwarded).toBe('for=1.2.3.4;host=app.example;proto=https, for="[2001:db8::7]", for=10.0.0.9');
  });
  it("drops a client's DPoP proof where the gateway sends the token, keeps it on token: none routes", () => {
    const client = { authorization: 'DPoP stolen', dpop: 'eyJ.client.proof' };
    const out = forwardHeaders(request, client, base);
    expect(out.dpop).toBeUndefined();
    expect(out.authorization).toBe('Bearer AT');
    expect(forwardHeaders(request, client, { ...base, sendsToken: false, accessToken: undefined }).dpop).toBe('eyJ.client.proof');
  });

  it('never passes Proxy-Authorization', () => {
    expect(forwardHeaders(request, { 'proxy-authorization': 'Basic eDp5' }, base)['proxy-authorization']).toBeUndefined();
    expect(forwardHeaders(request, { 'proxy-authorization': 'Basic eDp5' }, { ...base, sendsToken: false })['proxy-authorization']).toBeUndefined();
  });
  it('removes the headers Connection names, case-insensitively, but never the ones the gateway sets', () => {
    const out = forwardHeaders(
      request,
      { connection: 'keep-alive, X-Hop, Authorization, X-Forwarded-For', 'x-hop': '1', 'x-kept': '2', authorization: 'Basic x', 'x-forwarded-for': '6.6.6.6' },
      base,
    );
    expect(out['x-hop']).toBeUndefined();
    expect(out.connection).toBeUndefined();
    expect(out['x-kept']).toBe('2');
    expect(out.authorization).toBe('Bearer AT');
    expect(out['x-forwarded-for']).toBe('10.0.0.9');
  });
});

describe("the upstream's Set-Cookie for the gateway's cookies", () => {
  const own = (n: string) => n === '__Host-bff' || n === '__Host-bff-login';
  it('drops those lines, keeps the others, names (never values) the dropped ones', () => {
    expect(withoutOwnCookies(['a=1; Path=/', ' __Host-bff =x; Max-Age=0', '__Host-bff-login=y', '__Host-bffx=2'], own)).toEqual({
      kept: ['a=1; Path=/', '__Host-bffx=2'],
      dropped: ['__Host-bff', '__Host-bff-login'],
    });
    expect(withoutOwnCookies('__Host-bff=x', own)).toEqual({ kept: undefined, dropped: ['__Host-bff'] });
    const untouched = ['a=1'];
    expect(withoutOwnCookies(untouched, own).kept).toBe(untouched);
  });
  it('Upstream.responseHeaders drops them, and headers the response Connection names, with one warning', async () => {
    const u = new Upstream({ prefix: '/api', upstream: 'http://127.0.0.1:1', rewritePrefix: '', timeoutMs: 1000 });
    const warnings: unknown[] = [];
    const headers = u.responseHeaders(
      { 'set-cookie': ['__Host-bff=planted; Path=/', 'a=1'], connection: 'close, x-hop', 'x-hop': 'h', etag: '"1"' },
      own,
      { warn: (fields) => warnings.push(fields) },
    );
    expect(headers).toEqual({ 'set-cookie': ['a=1'], etag: '"1"' });
    expect(warnings).toEqual([{ cookies: ['__Host-bff'] }]);
    await u.close();
  });
});
