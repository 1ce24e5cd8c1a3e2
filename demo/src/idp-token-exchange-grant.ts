// RFC 8693 token exchange for the demo identity provider: a client presents an access token
// it was issued (subject_token) and gets a token for one audience (and optional resource and
// scope, at most the subject token's scope): an access token restricted to that audience,
// bound to the DPoP key of the request's proof when there is one, or, asked for
// urn:ietf:params:oauth:token-type:saml2, a signed SAML 2.0 assertion (base64url) minted by
// `saml`. Audiences are a fixed list; another one is refused (invalid_target).
import { errors, type KoaContext, type Provider } from 'oidc-provider';
import { dpopThumbprint } from './idp-dpop-proof.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const SAML2_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:saml2';

/** Mints a SAML 2.0 assertion (XML) for a subject and an audience. */
export type SamlMinter = (subject: string, audience: string, lifetimeSeconds: number) => string;

export interface TokenExchangeOptions {
  /** the audiences tokens may be issued for */
  audiences: readonly string[];
  saml?: SamlMinter;
  tokenEndpoint: string;
}

function param(ctx: KoaContext, name: string): string | undefined {
  const value = ctx.oidc?.params?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function registerTokenExchangeGrant(provider: Provider, opts: TokenExchangeOptions): void {
  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, async (ctx) => {
    const client = ctx.oidc?.client;
    if (!ctx.oidc || !client) throw new errors.InvalidRequest('no authenticated client');
    const subjectToken = param(ctx, 'subject_token');
    if (subjectToken === undefined) throw new errors.InvalidRequest('subject_token is required');
    if (param(ctx, 'subject_token_type') !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('subject_token_type must be an access token');
    const audience = param(ctx, 'audience');
    if (audience === undefined || !opts.audiences.includes(audience)) throw new errors.InvalidTarget('this audience is not served');
    const subject = await provider.AccessToken.find(subjectToken);
    // only a live token this very client was issued
    if (!subject || subject.isExpired || subject.clientId !== client.clientId) throw new errors.InvalidGrant('the subject token is not valid');

    const granted = new Set((subject.scope ?? '').split(' ').filter(Boolean));
    const requested = param(ctx, 'scope')?.split(' ').filter(Boolean) ?? [...granted];
    const refused = requested.filter((s) => !granted.has(s));
    if (refused.length > 0) throw new errors.InvalidScope('more scope than the subject token has', refused.join(' '));
    const scope = requested.join(' ');
    const lifetime = 300;

    const wanted = param(ctx, 'requested_token_type') ?? ACCESS_TOKEN_TYPE;
    if (wanted === SAML2_TOKEN_TYPE && opts.saml) {
      const xml = opts.saml(subject.accountId, audience, lifetime);
      ctx.body = {
        access_token: Buffer.from(xml, 'utf8').toString('base64url'),
        issued_token_type: SAML2_TOKEN_TYPE,
        token_type: 'N_A',
        expires_in: lifetime,
      };
      return;
    }
    if (wanted !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest('requested_token_type is not supported');

    const at = new provider.AccessToken({ accountId: subject.accountId, client, grantId: subject.grantId, gty: 'token_exchange' });
    at.scope = scope;
    at.setAudience?.(audience);
    const jkt = await dpopThumbprint(ctx, opts.tokenEndpoint);
    if (jkt !== undefined) at.setThumbprint?.('jkt', jkt);
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();
    ctx.body = {
      access_token: accessToken,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: at.tokenType ?? 'Bearer',
      expires_in: at.expiration,
      ...(scope === '' ? {} : { scope }),
    };
  }, ['subject_token', 'subject_token_type', 'audience', 'resource', 'scope', 'requested_token_type', 'actor_token', 'actor_token_type']);
}
