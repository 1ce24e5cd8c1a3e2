import { expect } from 'vitest';
import { startGateway, type TestGateway, type TestGatewayOptions } from './gateway.js';
import type { TestIdp } from './idp.js';
import { loginThroughGateway } from './login.js';
import type { TestUpstream } from './upstream.js';

// Several gateway instances (separate apps) sharing one store and one IdP, and the calls a
// storm test makes across them.

export interface Instances {
  gateways: TestGateway[];
  close(): Promise<void>;
}

export async function startInstances(count: number, opts: TestGatewayOptions): Promise<Instances> {
  const gateways: TestGateway[] = [];
  for (let i = 0; i < count; i++) gateways.push(await startGateway(opts));
  return { gateways, close: async () => void (await Promise.all(gateways.map((g) => g.close()))) };
}

/**
 * Log in on `gatewayUrl` while the IdP issues access tokens that already need a refresh
 * (30 s, inside the gateway's 60 s refreshBefore); later tokens live an hour, so exactly
 * one refresh is due per session. Stats are reset after the login.
 */
export async function expiringSession(idp: TestIdp, gatewayUrl: string): Promise<string> {
  idp.setAccessTokenTtl(30);
  try {
    const { sessionCookie } = await loginThroughGateway(gatewayUrl);
    return sessionCookie;
  } finally {
    idp.setAccessTokenTtl(3600);
  }
}

export interface CallResult {
  status: number;
  ms: number;
  body: string;
}

/** One proxied call with the session cookie and the CSRF header. */
export async function call(url: string, cookie: string, init: RequestInit = {}): Promise<CallResult> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      ...init,
      headers: { 'x-csrf': '1', cookie, ...(init.headers as Record<string, string> | undefined) },
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: await res.text(), ms: performance.now() - started };
  } catch (e) {
    return { status: 0, body: String(e), ms: performance.now() - started };
  }
}

/** `count` concurrent calls on `path`, spread round-robin over the gateways. */
export function storm(gateways: TestGateway[], cookie: string, count: number, path = '/api/data'): Promise<CallResult[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => call(`${gateways[i % gateways.length]!.url}${path}`, cookie)),
  );
}

/** status → how many calls got it, e.g. { 200: 199, 503: 1 } */
export function countStatuses(results: CallResult[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/**
 * The storm test: `count` concurrent calls on one expired session, spread over the
 * gateways, give exactly one refresh at the IdP, no failure and one bearer upstream.
 */
export async function expectOneRefreshForAStorm(idp: TestIdp, upstream: TestUpstream, gateways: TestGateway[], count = 200): Promise<void> {
  const cookie = await expiringSession(idp, gateways[0]!.url);
  idp.resetStats();
  upstream.seen.length = 0;
  const results = await storm(gateways, cookie, count);
  expect(countStatuses(results)).toEqual({ 200: count });
  expect(idp.stats.refreshes).toBe(1);
  expect(idp.stats.grantRevocations).toBe(0);
  expect(idp.stats.refreshFailures).toBe(0);
  expect(new Set(upstream.seen.map((r) => r.headers.authorization)).size).toBe(1);
}
