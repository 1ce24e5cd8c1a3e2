import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import type { TestIdp } from '../helpers/idp.js';
import { loginThroughGateway } from '../helpers/login.js';
import { startStack, type Stack } from '../helpers/stack.js';

// oidc.tokenConcurrency against the real demo IdP: 20 sessions expire together and are all
// called at once. The IdP counts the token requests in flight (stats.tokenRequestsPeak); a
// hook around them holds each one until `target` of them are in flight (or the last expected
// one has arrived), so the requests overlap as much as the gateway lets them, with no sleeps:
// with the cap at 2 the peak is exactly 2; on a gateway whose cap is above the count, all 20
// are in flight at once.

const SESSIONS = 20;
const HOLD_BACKSTOP_MS = 10_000; // only so a broken gateway fails the test instead of hanging it

/** Holds the IdP's token requests as described above (the IdP's stats count the peak). */
function tokenGate(idp: TestIdp) {
  let target = 0;
  let expected = 0;
  let arrived = 0;
  let inflight = 0;
  let held: (() => void)[] = [];
  const state = { backstops: 0 };
  const releaseAll = () => {
    const waiting = held;
    held = [];
    for (const release of waiting) release();
  };
  const hold = async (_ctx: unknown, next: () => Promise<void>) => {
    inflight += 1;
    arrived += 1;
    try {
      if (inflight >= target || arrived >= expected) releaseAll();
      else {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => { state.backstops += 1; resolve(); }, HOLD_BACKSTOP_MS);
          held.push(() => { clearTimeout(timer); resolve(); });
        });
      }
      await next();
    } finally {
      inflight -= 1;
    }
  };
  return {
    state,
    arm(opts: { target: number; expected: number }) {
      ({ target, expected } = opts);
      arrived = 0;
      state.backstops = 0;
      idp.aroundTokenRequests(hold);
    },
    disarm() {
      idp.aroundTokenRequests(null);
      releaseAll();
    },
  };
}

let stack: Stack;
let idp: TestIdp;
let uncapped: TestGateway;
let gate: ReturnType<typeof tokenGate>;

beforeAll(async () => {
  stack = await startStack({
    idp: {},
    routes: (url) => [{ prefix: '/api', upstream: url }],
    gateway: { config: { oidc: { tokenConcurrency: 2 } } },
  });
  idp = stack.idp;
  // same store and secrets: sessions are shared; only the cap differs
  uncapped = await startGateway({
    idp, store: stack.redis.url, routes: [{ prefix: '/api', upstream: stack.upstream.url }],
    config: { oidc: { tokenConcurrency: SESSIONS + 5 } },
  });
  gate = tokenGate(idp);
}, 60_000);

afterAll(async () => {
  gate?.disarm();
  await uncapped?.close();
  await stack?.close();
});

/** Sessions whose access tokens are due for a refresh (30 s left, refreshBefore is 60 s). */
async function expiringSessions(gatewayUrl: string, count: number): Promise<string[]> {
  idp.setAccessTokenTtl(30);
  const cookies: string[] = [];
  for (let i = 0; i < count; i += 5) {
    const batch = await Promise.all(Array.from({ length: Math.min(5, count - i) }, () => loginThroughGateway(gatewayUrl)));
    cookies.push(...batch.map((b) => b.sessionCookie));
  }
  idp.setAccessTokenTtl(3600);
  return cookies;
}

const callApi = (gatewayUrl: string, cookie: string) =>
  fetch(`${gatewayUrl}/api/data`, { headers: { 'x-csrf': '1', cookie } }).then(async (r) => { await r.body?.cancel(); return r.status; });

async function stormAndCheck(gatewayUrl: string, cookies: string[]): Promise<void> {
  idp.resetStats();
  expect(await Promise.all(cookies.map((c) => callApi(gatewayUrl, c)))).toEqual(Array(cookies.length).fill(200));
  gate.disarm();
  expect(idp.stats.refreshes).toBe(cookies.length);
  expect(idp.stats.refreshFailures).toBe(0);
  // none lost: every session answers again with the token it got, no further refresh
  expect(await Promise.all(cookies.map((c) => callApi(gatewayUrl, c)))).toEqual(Array(cookies.length).fill(200));
  expect(idp.stats.refreshes).toBe(cookies.length);
  expect(idp.stats.grantRevocations).toBe(0);
  expect(gate.state.backstops).toBe(0);
}

describe('oidc.tokenConcurrency', () => {
  it('with tokenConcurrency 2, 20 sessions expiring together are all refreshed, never more than 2 at the IdP at once', async () => {
    const cookies = await expiringSessions(stack.gw.url, SESSIONS);
    gate.arm({ target: 2, expected: SESSIONS });
    await stormAndCheck(stack.gw.url, cookies);
    expect(idp.stats.tokenRequestsPeak).toBe(2);
  });

  it('the same storm through a gateway whose cap is above the count has all 20 at the IdP at once (the counter sees overlap)', async () => {
    const cookies = await expiringSessions(uncapped.url, SESSIONS);
    gate.arm({ target: SESSIONS, expected: SESSIONS });
    await stormAndCheck(uncapped.url, cookies);
    expect(idp.stats.tokenRequestsPeak).toBe(SESSIONS);
  });
});
