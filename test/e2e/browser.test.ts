import type { EventEmitter } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoRestApi, type DemoRestApi } from '../../demo/src/rest-api.js';
import { startDemoSoapService, type DemoSoapService } from '../../demo/src/soap-service.js';
import { startDemoWeb, type DemoWeb } from '../../demo/src/web.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { peekSession } from '../helpers/session-peek.js';

// The demo SPA in headless Chromium, behind a gateway on real Redis (REST and SOAP routes),
// logging in through the demo identity provider's form. Access tokens live 3 s (refreshBefore 1 s), so one wait past
// a token's lifetime makes the next API call refresh; the page does not notice.

const SPA_DIR = resolve('dist/demo/src/spa');
const ARTIFACTS = resolve('test/e2e/artifacts');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run',
];
const WAIT = { timeout: 10_000 };

let redis: TestRedis;
let redisClient: Redis;
let idp: TestIdp;
let restApi: DemoRestApi;
let soapApi: DemoSoapService;
let web: DemoWeb;
let gw: TestGateway;
let browser: Browser | undefined;
/** every access, refresh token and code the IdP issued, as it issued them */
const issued = new Set<string>();

beforeAll(async () => {
  if (!existsSync(resolve(SPA_DIR, 'app.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  mkdirSync(ARTIFACTS, { recursive: true });
  redis = await startRedis();
  redisClient = redis.client();
  idp = await startTestIdp({ accessTokenTtl: 3 });
  // opaque tokens: the value is the jti of the saved model
  const events = idp.provider as unknown as EventEmitter;
  for (const kind of ['access_token', 'refresh_token', 'authorization_code']) {
    events.on(`${kind}.saved`, (token: { jti: string }) => issued.add(token.jti));
  }
  restApi = await startDemoRestApi({ issuer: idp.issuer, cacheMs: 0 });
  soapApi = await startDemoSoapService({ issuer: idp.issuer });
  web = await startDemoWeb({ spaDir: SPA_DIR, soapPath: '/soap' });
  gw = await startGateway({
    idp,
    store: redis.url,
    routes: [
      { prefix: '/api', upstream: restApi.url },
      { prefix: '/soap', upstream: soapApi.url, soap: { inject: 'body', element: 'token' } },
      { prefix: '/live', upstream: restApi.url, websocket: true },
      { prefix: '/', upstream: web.url, token: 'none' },
    ],
    config: { oidc: { refreshBefore: '1s', scope: 'openid profile email offline_access' } },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 15_000 });
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await Promise.all([web?.close(), restApi?.close(), soapApi?.close(), idp?.close()]);
  await redis?.close();
});

const text = (page: Page, selector: string) => page.locator(selector).innerText();
const shot = (page: Page, name: string) => page.screenshot({ path: resolve(ARTIFACTS, `${name}.png`), fullPage: true });

/** the actions the page offers now (visible buttons), by id */
const actions = (page: Page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLButtonElement>('button[id]'))
      .filter((b) => b.closest('[hidden]') === null && !b.disabled) // shown and usable
      .map((b) => b.id));

/** a page whose tab already tried its silent login (so it shows "Log in" at once) */
async function pageWithoutSilentLogin(context: import('playwright-core').BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(() => sessionStorage.setItem('bff-demo:silent-login-tried', '1'));
  return page;
}

async function loginWithForm(page: Page): Promise<void> {
  await page.click('#login');
  await page.locator('form#login').waitFor(WAIT);
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=password]', 'wonderland');
}

describe('the demo SPA in Chromium', () => {
  it('logs in, calls the API across a refresh, never sees a token, lists and ends sessions, logs in silently, logs out', { timeout: 90_000 }, async () => {
    const context = await browser!.newContext();
    const page = await pageWithoutSilentLogin(context);
    const bodies: Promise<string>[] = [];
    page.on('response', (response) => {
      // redirects have no body to read
      bodies.push(response.text().catch(() => ''));
    });

    // 1. not logged in: only "Log in" is offered
    await page.goto(`${gw.url}/`);
    await page.locator('#who', { hasText: 'Not logged in.' }).waitFor(WAIT);
    await page.locator('body[data-ready=true]').waitFor(WAIT);
    expect(await actions(page)).toEqual(['login']);
    await shot(page, '01-not-logged-in');

    // 2. the demo IdP's form
    await loginWithForm(page);
    await shot(page, '02-idp-login-form');
    await page.click('#submit');

    // 3. back on the page, logged in: the actions that fit, the session's time counting down,
    // no refresh yet, this one session in the list
    await page.locator('#who', { hasText: 'Logged in as Alice Liddell (alice).' }).waitFor(WAIT);
    expect(new URL(page.url()).origin).toBe(gw.url);
    expect(await actions(page)).toEqual(['call', 'soap', 'logout', 'logout-all', 'live-connect']);
    expect(await text(page, '#idle-left')).toMatch(/^\d+:\d\d(:\d\d)?$/);
    const absoluteLeft = await text(page, '#absolute-left');
    expect(absoluteLeft).toMatch(/^\d+:\d\d:\d\d$/);
    await page.waitForFunction((before) => document.getElementById('absolute-left')!.textContent !== before, absoluteLeft, WAIT);
    expect(await text(page, '#refreshes')).toContain('has not refreshed the access token yet');
    await page.locator('#sessions li[data-current]').waitFor(WAIT);
    expect(await page.locator('#sessions li').count()).toBe(1);
    await shot(page, '03-logged-in');

    // 4. the API, through the gateway with the bearer token
    await page.click('#call');
    await page.locator('#out', { hasText: /^200\n/ }).waitFor(WAIT);
    expect(await text(page, '#backend')).toMatch(/subject\s+alice[\s\S]*bearer token received\s+yes/);
    await shot(page, '04-api-call');

    // 4b. the SOAP API: the gateway writes the token into the envelope (#out still shows the
    // REST call's 200: clear it, or the wait below would pass before the SOAP answer is in)
    await page.evaluate(() => { document.getElementById('out')!.textContent = ''; });
    await page.click('#soap');
    await page.locator('#out', { hasText: /^200\n/ }).waitFor(WAIT);
    expect(await text(page, '#backend')).toMatch(/SOAP service[\s\S]*Subject\s+alice[\s\S]*TokenReceived\s+true/);
    await shot(page, '04b-soap-call');

    // 5. past the access token's lifetime: the next call refreshes, the page does not notice
    // but shows when the gateway refreshed, and how often
    const cookies = await context.cookies(gw.url);
    const session = cookies.find((c) => c.name === '__Host-bff');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const sessionCookie = `${session!.name}=${session!.value}`;
    const before = await peekSession(redisClient, sessionCookie);
    const expiresAt = before?.tokens.accessTokenExpiresAt;
    expect(expiresAt).toBeGreaterThan(0);
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    await page.evaluate(() => { document.getElementById('out')!.textContent = ''; });
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt! - Date.now()) + 200));
    const refreshes = idp.stats.refreshes;
    await page.click('#call');
    await page.locator('#out', { hasText: /^200\n/ }).waitFor(WAIT);
    expect(idp.stats.refreshes).toBe(refreshes + 1);
    expect(await text(page, '#backend')).toMatch(/subject\s+alice[\s\S]*bearer token received\s+yes/);
    expect(await page.evaluate(() => 'sameDocument' in window)).toBe(true); // no reload, no redirect
    const after = await peekSession(redisClient, sessionCookie);
    expect(after?.tokens.accessToken).not.toBe(before?.tokens.accessToken);
    await page.locator('#refreshes', { hasText: /refreshed the access token (once|\d+ times), last at/ }).waitFor(WAIT);
    await shot(page, '05-api-call-after-refresh');

    // 6. the session cookie is out of the page's reach, and no token reached the page
    const visible = await page.evaluate(() => document.cookie);
    expect(visible).not.toContain('__Host-bff');
    expect(visible).not.toContain(session!.value);
    for (const t of [before?.tokens.idToken, after?.tokens.idToken]) if (t) issued.add(t);
    expect(issued.size).toBeGreaterThanOrEqual(6); // code, 2 access, 2 refresh, ID token
    const received = (await Promise.all(bodies)).join('\n');
    expect(received).toContain('Alice Liddell'); // the bodies were read
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    const dom = await page.content();
    for (const token of issued) {
      expect(token.length).toBeGreaterThanOrEqual(20);
      expect(received.includes(token), 'a token in a response body').toBe(false);
      expect(dom.includes(token) || storage.includes(token), 'a token in the page').toBe(false);
    }

    // 7. a second browser logs in: the first lists two sessions and ends the other one
    const other = await browser!.newContext();
    const otherPage = await pageWithoutSilentLogin(other);
    await otherPage.goto(`${gw.url}/`);
    await otherPage.locator('#who', { hasText: 'Not logged in.' }).waitFor(WAIT);
    await loginWithForm(otherPage);
    await otherPage.click('#submit');
    await otherPage.locator('#who', { hasText: 'Logged in as Alice Liddell (alice).' }).waitFor(WAIT);
    await page.click('#call');
    await page.locator('#sessions li:not([data-current])').waitFor(WAIT);
    expect(await page.locator('#sessions li').count()).toBe(2);
    await shot(page, '06-two-sessions');
    await page.click('#sessions li:not([data-current]) button.end');
    await page.locator('#sessions li:not([data-current])').waitFor({ state: 'detached', ...WAIT });
    expect(await page.locator('#sessions li').count()).toBe(1);
    const ended = await otherPage.evaluate(async () => (await fetch('/api/hello', { headers: { 'x-csrf': '1' } })).status);
    expect(ended).toBe(401);
    await shot(page, '07-other-session-ended');

    // 8. the other browser opens the page again: its session was ended and its grant revoked
    // with its refresh token, so the silent login at start-up comes back with an error and
    // the page offers "Log in"
    const endedPage = await other.newPage();
    const endedVisits: string[] = [];
    endedPage.on('request', (request) => endedVisits.push(request.url()));
    await endedPage.goto(`${gw.url}/`);
    await endedPage.locator('#who', { hasText: 'Not logged in.' }).waitFor(WAIT);
    expect(endedVisits.some((url) => url.includes('/auth/login?prompt=none'))).toBe(true);
    expect(endedVisits.some((url) => /\/\?(.*&)?error=/.test(url))).toBe(true); // back at returnTo with the IdP's error
    await other.close();

    // a third browser whose gateway session is gone (its cookie cleared) while its IdP session
    // and grant live: the silent login brings it back without a form
    const third = await browser!.newContext();
    const thirdPage = await pageWithoutSilentLogin(third);
    await thirdPage.goto(`${gw.url}/`);
    await thirdPage.locator('#who', { hasText: 'Not logged in.' }).waitFor(WAIT);
    await loginWithForm(thirdPage);
    await thirdPage.click('#submit');
    await thirdPage.locator('#who', { hasText: 'Logged in as Alice Liddell (alice).' }).waitFor(WAIT);
    await third.clearCookies({ name: '__Host-bff' });
    const silentPage = await third.newPage();
    const visited: string[] = [];
    silentPage.on('request', (request) => visited.push(request.url()));
    await silentPage.goto(`${gw.url}/`);
    await silentPage.locator('#who', { hasText: 'Logged in as Alice Liddell (alice).' }).waitFor(WAIT);
    expect(visited.some((url) => url.includes('/auth/login?prompt=none'))).toBe(true);
    expect(await silentPage.locator('form#login').count()).toBe(0);
    await shot(silentPage, '08-silent-login');
    await third.close();

    // 9. logout: the gateway, then the IdP's confirmation, then back on the page
    await page.click('#logout');
    const confirm = page.locator('button[name=logout][value=yes]');
    await confirm.waitFor(WAIT);
    await shot(page, '09-idp-logout-confirm');
    await confirm.click();
    await page.waitForURL(`${gw.url}/`, WAIT);
    await page.locator('#who', { hasText: 'Not logged in.' }).waitFor(WAIT);
    expect(await actions(page)).toEqual(['login']);
    await shot(page, '10-logged-out');

    // 10. calls fail with the gateway's 401 now
    const direct = await page.evaluate(async () => {
      const res = await fetch('/api/hello', { headers: { 'x-csrf': '1' } });
      return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
    });
    expect(direct).toEqual({ status: 401, challenge: 'BFF-Session error="unauthenticated", login_uri="/auth/login"', body: '{"error":"unauthenticated"}' });
    expect(await peekSession(redisClient, sessionCookie)).toBeNull();
    await context.close();
  });

  it('shows the live clock and event stream; a logout in another tab closes the socket (4401)', { timeout: 45_000 }, async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(`${gw.url}/`);
    await page.locator('#who', { hasText: 'Not logged in.' }).waitFor(WAIT);
    await page.click('#login');
    await page.locator('form#login').waitFor(WAIT);
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'wonderland');
    await page.click('#submit');
    await page.locator('#who', { hasText: 'Logged in as' }).waitFor(WAIT);

    // the socket through the gateway: ticks from the clock, an echo, and the event stream
    await page.click('#live-connect');
    await page.locator('#live-socket', { hasText: 'socket: open' }).waitFor(WAIT);
    await page.locator('#live-clock', { hasText: /^tick \d{4}-/ }).waitFor(WAIT);
    await page.click('#live-echo');
    await page.locator('#live-socket', { hasText: 'echo "hello at' }).waitFor(WAIT);
    await page.locator('#live-stream', { hasText: /event stream: [1-9]\d* events/ }).waitFor(WAIT);
    await shot(page, '09-live');

    // another tab of the same browser logs out: this tab's socket closes with 4401
    const other = await context.newPage();
    await other.goto(`${gw.url}/`);
    await other.locator('#who', { hasText: 'Logged in as' }).waitFor(WAIT);
    await other.click('#logout');
    await page.locator('#live-socket', { hasText: 'socket: closed 4401 "session ended"' }).waitFor(WAIT);
    await shot(page, '10-live-closed-by-logout-elsewhere');
    await context.close();
  });
});
