import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BFF_CLIENT_ID, BFF_CLIENT_SECRET, SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, SERVICE_USER, startTestIdp, type TestIdp } from '../helpers/idp.js';

// The test IdP's password grant (oidc-provider has none; the demo registers one), spoken to
// directly: what the gateway's token sources rely on.

let idp: TestIdp;

beforeAll(async () => {
  idp = await startTestIdp();
});
afterAll(async () => idp?.close());
beforeEach(() => idp.resetStats());

type TokenAnswer = { status: number; body: Record<string, unknown> };

async function token(params: Record<string, string>, clientId = SERVICE_CLIENT_ID, secret = SERVICE_CLIENT_SECRET): Promise<TokenAnswer> {
  const res = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const passwordGrant = (password = SERVICE_USER.password) =>
  token({ grant_type: 'password', username: SERVICE_USER.username, password, scope: 'openid' });
const refresh = (refreshToken: unknown) => token({ grant_type: 'refresh_token', refresh_token: String(refreshToken) });

async function subjectOf(accessToken: unknown): Promise<string | number> {
  const res = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${String(accessToken)}` } });
  if (res.status !== 200) return res.status;
  return ((await res.json()) as { sub: string }).sub;
}

describe('the test IdP password grant', () => {
  it('issues an access token of the user and a refresh token, and counts the grant', async () => {
    const { status, body } = await passwordGrant();
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid', expires_in: 60 });
    expect(typeof body.refresh_token).toBe('string');
    expect(await subjectOf(body.access_token)).toBe(SERVICE_USER.claims.sub);
    expect(idp.stats.passwordGrants).toBe(1);
  });

  it('refuses a wrong password, an unknown user and a missing password', async () => {
    expect(await passwordGrant('wrong')).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const unknown = await token({ grant_type: 'password', username: 'nobody', password: SERVICE_USER.password });
    expect(unknown).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const missing = await token({ grant_type: 'password', username: SERVICE_USER.username });
    expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(idp.stats.passwordGrants).toBe(0);
    expect(idp.stats.passwordGrantFailures).toBe(3);
  });

  it('is only for clients that are allowed it', async () => {
    const res = await token({ grant_type: 'password', username: SERVICE_USER.username, password: SERVICE_USER.password }, BFF_CLIENT_ID, BFF_CLIENT_SECRET);
    expect(res.status).toBe(400);
    expect(idp.stats.passwordGrants).toBe(0);
  });

  it('rotates its refresh tokens: each works once, and a reused one revokes the grant', async () => {
    const first = await passwordGrant();
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(await subjectOf(second.body.access_token)).toBe(SERVICE_USER.claims.sub);
    expect(idp.stats.refreshes).toBe(1);

    expect(await refresh(first.body.refresh_token)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(idp.stats.grantRevocations).toBe(1);
    // the whole grant is gone: the rotated refresh token and its access token too
    expect((await refresh(second.body.refresh_token)).status).toBe(400);
    expect(await subjectOf(second.body.access_token)).toBe(401);
  });

  it('revokeGrantsOf() ends the grants of an account, as an administrator would', async () => {
    const { body } = await passwordGrant();
    expect(idp.revokeGrantsOf(SERVICE_USER.claims.sub)).toBeGreaterThanOrEqual(1);
    expect(await refresh(body.refresh_token)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await subjectOf(body.access_token)).toBe(401);
  });

  it('counts client_credentials grants', async () => {
    const res = await token({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(idp.stats.clientCredentials).toBe(1);
  });
});
