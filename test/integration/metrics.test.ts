import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// GET /metrics as the contract lists it: the request counter by route and status and the
// upstream duration histogram by route, counted as calls go through.

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ idp: { accessTokenTtl: 3600 }, routes: (url) => [{ prefix: '/api', upstream: url }] });
});

afterAll(async () => stack?.close());

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${stack.gw.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

describe('/metrics', () => {
  it('counts requests by route and status, and upstream durations by route', async () => {
    const { sessionCookie } = await loginThroughGateway(stack.gw.url);
    const before = await scrape();
    const count = (s: Map<string, number>, name: string) => s.get(name) ?? 0;
    const ok = 'bff_http_requests_total{route="/api",status="200"}';
    const unauthenticated = 'bff_http_requests_total{route="/api",status="401"}';
    const durations = 'bff_upstream_duration_seconds_count{route="/api"}';

    for (let i = 0; i < 5; i += 1) {
      const res = await fetch(`${stack.gw.url}/api/items`, { headers: { 'x-csrf': '1', cookie: sessionCookie } });
      expect(res.status).toBe(200);
    }
    expect((await fetch(`${stack.gw.url}/api/items`, { headers: { 'x-csrf': '1' } })).status).toBe(401);

    const after = await scrape();
    expect(count(after, ok) - count(before, ok)).toBe(5);
    expect(count(after, unauthenticated) - count(before, unauthenticated)).toBe(1);
    // the refused call never reached the upstream
    expect(count(after, durations) - count(before, durations)).toBe(5);

    // buckets are cumulative and end at +Inf with the count; the sum is of real durations
    const buckets = [...after].filter(([name]) => name.startsWith('bff_upstream_duration_seconds_bucket{') && name.includes('route="/api"'));
    expect(buckets.length).toBe(13);
    const values = buckets.map(([, v]) => v);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(buckets.at(-1)).toEqual(['bff_upstream_duration_seconds_bucket{le="+Inf",route="/api"}', after.get(durations)]);
    expect(after.get('bff_upstream_duration_seconds_sum{route="/api"}')).toBeGreaterThan(0);

    expect([...after.keys()].some((name) => name.startsWith('bff_refresh_lock_wait_seconds_count'))).toBe(true);
    expect(await (await fetch(`${stack.gw.url}/metrics`)).text()).toMatch(/# TYPE bff_upstream_duration_seconds histogram\n/);
    expect(await (await fetch(`${stack.gw.url}/metrics`)).text()).toMatch(/# TYPE bff_token_refresh_total counter\n/);
  });
});
