import { describe, expect, it } from 'vitest';
import { isSafeReturnTo } from '../../src/auth/return-to.js';
import { forwardHeaders, stripCookies } from '../../src/proxy/forward-headers.js';
import { needsRefresh } from '../../src/tokens/freshness.js';
import { merge } from '../../src/tokens/issued-tokens.js';

describe('isSafeReturnTo', () => {
  it.each(['/', '/app', '/app?x=1#y', '/a/b/../c', '/%2F'])('accepts %s', (v) => expect(isSafeReturnTo(v)).toBe(true));
  it.each(['', 'app', 'https://evil.example', '//evil.example', '/\\evil.example', '\\\\evil', 'javascript:alert(1)', '/a\nb', '/a\u0000', ' /x', '/\t/evil'])(
    'refuses %j',
    (v) => expect(isSafeReturnTo(v)).toBe(false),
  );
});

describe('stripCookies', () => {
  const own = (n: string) => n === '__Host-bff' || n === '__Host-bff-login';
  it('removes only the gateway cookies', () => {
    expect(stripCookies('a=1; __Host-bff=x.y; b=2;__Host-bff-login=z', own)).toBe('a=1; b=2');
    expect(stripCookies('__Host-bff=x', own)).toBe('');
    expect(stripCookies('__Host-bffx=1; flag', own)).toBe('__Host-bffx=1; flag');
  });
});

describe('forwardHeaders', () => {
  const request = { ip: '10.0.0.9', protocol: 'https', host: 'app.example', socket: { remoteAddress: '10.0.0.9' } };
  const base = { isOwnCookie: (n: string) => n === 'bff', trustProxy: false };
  it('replaces Authorization on token routes and sets X-Forwarded-*', () => {
    const out = forwardHeaders(request, { authorization: 'Basic x', cookie: 'bff=s; a=1', 'x-forwarded-for': '6.6.6.6' }, { ...base, sendsToken: true, accessToken: 'AT' });
    expect(out).toMatchObject({ authorization: 'Bearer AT', cookie: 'a=1', 'x-forwarded-for': '10.0.0.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' });
  });
  it('drops a client Authorization on token routes without a token, keeps it on token: none routes', () => {
    expect(forwardHeaders(request, { authorization: 'Basic x' }, { ...base, sendsToken: true, accessToken: undefined }).authorization).toBeUndefined();
    expect(forwardHeaders(request, { authorization: 'Basic x' }, { ...base, sendsToken: false, accessToken: undefined }).authorization).toBe('Basic x');
  });
  it('appends to X-Forwarded-For only behind a trusted proxy', () => {
    const behindProxy = { ...request, ips: ['10.0.0.9', '1.2.3.4'] };
    const out = forwardHeaders(behindProxy, { 'x-forwarded-for': '1.2.3.4' }, { ...base, trustProxy: true, sendsToken: true, accessToken: 'AT' });
    expect(out['x-forwarded-for']).toBe('1.2.3.4, 10.0.0.9');
  });
  it('keeps only the trusted part of X-Forwarded-For (an address list stops at the first untrusted entry)', () => {
    // trustProxy: '10.0.0.9', the client sent a made-up 6.6.6.6: fastify trusts the peer and one entry
    const oneHop = { ...request, ips: ['10.0.0.9', '1.2.3.4'] };
    const out = forwardHeaders(oneHop, { 'x-forwarded-for': '6.6.6.6, 1.2.3.4' }, { ...base, trustProxy: true, sendsToken: true, accessToken: 'AT' });
    expect(out['x-forwarded-for']).toBe('1.2.3.4, 10.0.0.9');
  });
});

describe('needsRefresh', () => {
  const inMs = (ms: number) => ({ accessToken: 'a', accessTokenExpiresAt: Date.now() + ms });
  it('refreshes within the window, not before', () => {
    expect(needsRefresh(inMs(30_000), 60_000)).toBe(true);
    expect(needsRefresh(inMs(-1), 60_000)).toBe(true);
    expect(needsRefresh(inMs(120_000), 60_000)).toBe(false);
  });
  it('never refreshes a token without an expiry, unless an upstream refused that very token', () => {
    expect(needsRefresh({ accessToken: 'a' }, 60_000)).toBe(false);
    expect(needsRefresh({ accessToken: 'a' }, 60_000, 'a')).toBe(true);
    expect(needsRefresh({ accessToken: 'b' }, 60_000, 'a')).toBe(false);
  });
});

describe('merge', () => {
  it('takes the rotated refresh token, keeps the old one when the IdP does not rotate', () => {
    const old = { accessToken: 'a1', refreshToken: 'r1', idToken: 'i1', scope: 's' };
    expect(merge(old, { accessToken: 'a2', refreshToken: 'r2' })).toEqual({ accessToken: 'a2', refreshToken: 'r2', idToken: 'i1', scope: 's' });
    expect(merge(old, { accessToken: 'a2', accessTokenExpiresAt: 5 })).toEqual({ accessToken: 'a2', accessTokenExpiresAt: 5, refreshToken: 'r1', idToken: 'i1', scope: 's' });
  });
});
