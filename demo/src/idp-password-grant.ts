// The OAuth 2.0 resource owner password credentials grant for the demo identity provider,
// as Delinea Secret Server's token endpoint offers it: username and password in, an access
// token and a refresh token out. oidc-provider has no such grant, so it is registered here.
// The tokens are oidc-provider's own models under a real Grant, so its refresh_token grant
// renews them like any other: each refresh token single use, rotated, and a reused one
// revokes the grant.
import { timingSafeEqual, createHash } from 'node:crypto';
import { errors, type KoaContext, type Provider } from 'oidc-provider';
import type { DemoUser } from './idp-interactions.js';

export const PASSWORD_GRANT = 'password';

/** Constant-time comparison of two strings of any length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function param(ctx: KoaContext, name: string): string | undefined {
  const value = ctx.oidc?.params?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Registers grant_type=password for clients whose grant_types include it. `scopes` are the
 * scopes the provider knows; without a `scope` parameter the token gets "openid" (enough
 * for the userinfo endpoint, which is how the demo services check tokens).
 */
export function registerPasswordGrant(provider: Provider, users: readonly DemoUser[], scopes: readonly string[]): void {
  provider.registerGrantType(PASSWORD_GRANT, async (ctx) => {
    const client = ctx.oidc?.client;
    if (!ctx.oidc || !client) throw new errors.InvalidRequest('no authenticated client');
    const username = param(ctx, 'username');
    const password = param(ctx, 'password');
    if (username === undefined || password === undefined) {
      throw new errors.InvalidRequest('username and password are required');
    }
    const user = users.find((u) => u.username === username);
    // compare even for an unknown user, so the answer takes as long either way
    const passwordOk = sameSecret(user?.password ?? '', password);
    if (!user || !passwordOk) throw new errors.InvalidGrant('invalid username or password');

    const requested = (param(ctx, 'scope') ?? 'openid').split(' ').filter(Boolean);
    const unknown = requested.filter((s) => !scopes.includes(s));
    if (unknown.length > 0) throw new errors.InvalidScope('requested scope is not supported', unknown.join(' '));
    const scope = requested.join(' ');

    const accountId = user.claims.sub;
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    ctx.oidc.entity('Grant', grant);

    const at = new provider.AccessToken({ accountId, client, grantId, gty: PASSWORD_GRANT });
    at.scope = scope;
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();

    let refreshToken: string | undefined;
    if (client.grantTypeAllowed('refresh_token')) {
      const rt = new provider.RefreshToken({ accountId, client, grantId, gty: PASSWORD_GRANT, scope, rotations: 0 });
      ctx.oidc.entity('RefreshToken', rt);
      refreshToken = await rt.save();
    }

    ctx.body = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: at.expiration,
      scope,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    };
  }, ['username', 'password', 'scope']);
}
