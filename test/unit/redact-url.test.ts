import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsInText } from '../../src/observability/redact-url.js';

// Every logged URL goes through redactUrl: code and state values never reach a log line,
// whatever the path, the spelling of the names or the form of the target.

describe('redactUrl', () => {
  it('returns a URL without a query (or without code/state) as it is, the same string', () => {
    for (const url of ['/api/orders/7', '/', '/api/x?page=2&codes=1&statement=2&xcode=3', '/api/x?', '/a?code', '/a?=1&&;']) {
      expect(redactUrl(url)).toBe(url);
    }
  });

  it.each([
    ['/api/x?code=abc&page=2', '/api/x?code=[redacted]&page=2'],
    ['/api/x?page=2&state=s1&code=c1', '/api/x?page=2&state=[redacted]&code=[redacted]'],
    ['/api/x?code=a&code=b', '/api/x?code=[redacted]&code=[redacted]'],
    ['/api/x?%63ode=abc&st%61te=def', '/api/x?%63ode=[redacted]&st%61te=[redacted]'],
    ['/api/x?%43%4F%44%45=abc', '/api/x?%43%4F%44%45=[redacted]'],
    ['/api/x?CODE=abc;State=def', '/api/x?CODE=[redacted];State=[redacted]'],
    ['/api/x?+code+=abc', '/api/x?+code+=[redacted]'],
    ['/api/x?code=', '/api/x?code=[redacted]'],
    ['/api/x?a=1#code=z&code=abc', '/api/x?a=1#code=z&code=[redacted]'],
    ['/auth/callback?code=abc&state=def&iss=x', '/auth/callback?[redacted]'],
    ['/auth/login?returnTo=/x', '/auth/login?[redacted]'],
    ['http://other.host/auth/callback?code=abc&state=def', 'http://other.host/auth/callback?code=[redacted]&state=[redacted]'],
    ['https://user:secret@other.host/x', 'https://[redacted]@other.host/x'],
    ['http://u:p@h/x?code=1', 'http://[redacted]@h/x?code=[redacted]'],
    ['http://h/x?next=http://u@v', 'http://h/x?next=http://u@v'],
  ])('%s → %s', (url, expected) => expect(redactUrl(url)).toBe(expected));
});

describe('redactUrlsInText', () => {
  it('replaces code and state values in free text', () => {
    expect(redactUrlsInText('Reply was already sent, did you forget to "return reply" in "/x?code=abc&a=1" (GET)?')).toBe(
      'Reply was already sent, did you forget to "return reply" in "/x?code=[redacted]&a=1" (GET)?',
    );
    expect(redactUrlsInText('no url here')).toBe('no url here');
  });
});

describe("fastify's lines go through it too", () => {
  it('the req and err serializers of loggerOptions redact code and state', async () => {
    const { loggerOptions } = await import('../../src/observability/logger.js');
    const options = loggerOptions({}) as { serializers: Record<string, (value: unknown) => Record<string, unknown>> };
    expect(options.serializers.req!({ id: '1', method: 'GET', url: '/cb?state=s&code=c' }).url).toBe('/cb?state=[redacted]&code=[redacted]');
    const err = options.serializers.err!(new Error('Reply was already sent ... in "/x?%63ode=abc" (GET)'));
    expect(err.message).toBe('Reply was already sent ... in "/x?%63ode=[redacted]" (GET)');
    expect(String(err.stack)).not.toContain('abc');
  });
});
