import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/free-port.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { peekSession, sessionIdOf } from '../helpers/session-peek.js';
import { startStack, type Stack } from '../helpers/stack.js';

// With telemetry.traces, a proxied call that needs a refresh is one trace: the server span
// (continuing the caller's traceparent), the session read, the refresh with the IdP's token
// call inside it, and the upstream call; the upstream and the IdP receive a traceparent of
// the same trace; log lines name the trace. No exported span holds a token, the cookie, the
// session id or the authorization code.

const INCOMING_TRACE = '0af7651916cd43dd8448eb211c80319c';
const INCOMING_PARENT = 'b7ad6b7169203331';
/** the trace of a later call, whose session the session cache serves */
const CACHED_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
/** the trace of a call the upstream refuses once (invalid_token) */
const REPLAYED_TRACE = '5bf92f3577b34da6a3ce929d0e0e4737';
/** the trace of a call to an upstream that is down */
const DOWN_TRACE = '6bf92f3577b34da6a3ce929d0e0e4738';

let receiver: OtlpReceiver;
let stack: Stack;
let redis: Redis;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const closedPort = await freePort(); // nothing listens there
  stack = await startStack({
    idp: {},
    routes: (url) => [
      { prefix: '/api', upstream: url },
      { prefix: '/down', upstream: `http://127.0.0.1:${closedPort}` },
    ],
    gateway: { config: { telemetry: { traces: { endpoint: receiver.url, sampleRatio: 1 } } } },
  });
  redis = new Redis(stack.redis.url);
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.close();
  await receiver?.close();
});

describe('traces', () => {
  it('exports one trace per call, propagates traceparent, and carries no secret', async () => {
    const { idp, gw, upstream } = stack;
    const codes: string[] = [];
    const idpTraceparents: (string | undefined)[] = [];
    idp.aroundTokenRequests(async (ctx, next) => {
      idpTraceparents.push(ctx.get('traceparent') || undefined);
      await next();
      const params = (ctx as { oidc?: { params?: { code?: unknown } } }).oidc?.params;
      if (typeof params?.code === 'string') codes.push(params.code);
    });
    idp.setAccessTokenTtl(30); // the session's token is due at once: the call refreshes
    const { sessionCookie } = await loginThroughGateway(gw.url);
    idp.setAccessTokenTtl(3600);
    const before = (await peekSession(redis, sessionCookie))!;
    idpTraceparents.length = 0;

    const response = await fetch(`${gw.url}/api/data?x=1`, {
      headers: { 'x-csrf': '1', cookie: sessionCookie, traceparent: `00-${INCOMING_TRACE}-${INCOMING_PARENT}-01` },
    });
    expect(response.status).toBe(200);
    const after = (await peekSession(redis, sessionCookie))!;
    expect(after.tokens.refreshToken).not.toBe(before.tokens.refreshToken);

    // the upstream and the IdP got a traceparent of the caller's trace
    const upstreamTraceparent = upstream.seen.at(-1)?.headers.traceparent;
    expect(upstreamTraceparent).toMatch(new RegExp(`^00-${INCOMING_TRACE}-[0-9a-f]{16}-01$`));
    expect(idpTraceparents.length).toBeGreaterThan(0);
    for (const tp of idpTraceparents) expect(tp).toMatch(new RegExp(`^00-${INCOMING_TRACE}-`));

    // twice more: the first reads the store again (the refresh dropped the cached session),
    // the second finds the session in the session cache: still a session.read span, marked
    const again = (trace: string) =>
      fetch(`${gw.url}/api/data`, { headers: { 'x-csrf': '1', cookie: sessionCookie, traceparent: `00-${trace}-${INCOMING_PARENT}-01` } });
    expect((await again('1'.repeat(32))).status).toBe(200);
    expect((await again(CACHED_TRACE)).status).toBe(200);
    // a line the proxied call's own logger writes (the replay after an upstream's 401) names
    // its trace too, though the call runs in no trace scope
    let refusals = 0;
    upstream.respond((_record, res) => {
      if (refusals++ === 0) res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    expect((await again(REPLAYED_TRACE)).status).toBe(200);
    upstream.respond(undefined);
    // an upstream that is down: a 502, and its span failed, named by the error's code
    const down = await fetch(`${gw.url}/down/x`, { headers: { 'x-csrf': '1', cookie: sessionCookie, traceparent: `00-${DOWN_TRACE}-${INCOMING_PARENT}-01` } });
    expect(down.status).toBe(502);

    await gw.close(); // flushes the spans still queued
    const trace = receiver.spans.filter((s) => s.traceId === INCOMING_TRACE);
    const byName = (name: string) => trace.find((s) => s.name === name);
    const server = trace.find((s) => s.parentSpanId === INCOMING_PARENT);
    expect(server?.name).toBe('GET /api');
    expect(server?.attributes['http.response.status_code']).toBe(200);
    const read = byName('session.read');
    const refresh = byName('token.refresh');
    const upstreamCall = byName('upstream GET');
    const tokenCall = trace.find((s) => s.name.startsWith('idp POST'));
    expect(read?.parentSpanId).toBe(server?.spanId);
    expect(refresh?.parentSpanId).toBe(server?.spanId);
    expect(tokenCall?.parentSpanId).toBe(refresh?.spanId);
    expect(upstreamCall?.parentSpanId).toBe(server?.spanId);
    expect(upstreamCall?.attributes['url.path']).toBe('/data');
    expect(refresh?.events.map((e) => e.name)).toContain('refresh.lock_wait_ended');
    // the upstream's traceparent names the upstream span
    expect(upstreamTraceparent).toContain(upstreamCall!.spanId);

    const downCall = receiver.spans.find((s) => s.traceId === DOWN_TRACE && s.name === 'upstream GET');
    expect(downCall?.attributes['error.type']).toBe('ECONNREFUSED');
    expect(JSON.parse(downCall!.raw)).toMatchObject({ status: { code: 2 } });
    expect(downCall?.attributes['http.response.status_code']).toBeUndefined();

    expect(read?.attributes['bff.session.cached']).toBe(false);
    const cached = receiver.spans.filter((s) => s.traceId === CACHED_TRACE);
    expect(cached.map((s) => s.name).sort()).toEqual(['GET /api', 'session.read', 'upstream GET']);
    expect(cached.find((s) => s.name === 'session.read')?.attributes['bff.session.cached']).toBe(true);

    // log lines of the call name its trace
    const line = gw.logs.find((l) => l.includes('"request completed"') && l.includes('/api/data'));
    expect(line).toContain(`"traceId":"${INCOMING_TRACE}"`);
    const replayLine = gw.logs.find((l) => l.includes('replaying once'));
    expect(replayLine).toContain(`"traceId":"${REPLAYED_TRACE}"`);

    // nothing secret in any exported span (the login's spans too)
    expect(codes.length).toBeGreaterThan(0);
    const secrets = [
      before.tokens.accessToken, before.tokens.refreshToken!, before.tokens.idToken!,
      after.tokens.accessToken, after.tokens.refreshToken!,
      sessionCookie.slice(sessionCookie.indexOf('=') + 1), sessionIdOf(sessionCookie), ...codes,
    ];
    const exported = receiver.bodies.join('\n');
    expect(receiver.spans.length).toBeGreaterThan(5);
    for (const secret of secrets) expect(exported).not.toContain(secret);
    expect(exported).not.toMatch(/[?&](code|state)=/);
  });
});

describe('traces off (no telemetry.traces, no OTEL_* endpoint)', () => {
  it('adds no trace header and no traceId, and exports nothing', async () => {
    const off = await startStack({ idp: {}, routes: (url) => [{ prefix: '/api', upstream: url }] });
    try {
      const { sessionCookie } = await loginThroughGateway(off.gw.url);
      const before = receiver.bodies.length;
      const response = await fetch(`${off.gw.url}/api/data`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
      expect(response.status).toBe(200);
      expect(off.upstream.seen.at(-1)?.headers.traceparent).toBeUndefined();
      expect(off.gw.logs.some((l) => l.includes('traceId'))).toBe(false);
      await off.gw.close();
      expect(receiver.bodies.length).toBe(before);
    } finally {
      await off.close();
    }
  });
});
