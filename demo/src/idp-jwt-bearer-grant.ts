// The JWT bearer grant (RFC 7523 §2.1) for the demo identity provider, as Oracle IDCS takes
// its "JWT user assertion": an authenticated client presents an assertion signed with a key
// registered for the assertion's issuer (the client id, or the subject itself); the IdP
// checks signature, iss, aud (its issuer or its token endpoint), exp, a jti not seen before,
// and that the subject is a known account, then issues tokens for that account.
import { decodeJwt, importJWK, jwtVerify, type JWK } from 'jose';
import { errors, type KoaContext, type Provider } from 'oidc-provider';
import type { DemoUser } from './idp-interactions.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const MAX_JTIS = 10_000;

function param(ctx: KoaContext, name: string): string | undefined {
  const value = ctx.oidc?.params?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `keys`: the public JWK trusted for each assertion issuer. */
export function registerJwtBearerGrant(
  provider: Provider,
  users: readonly DemoUser[],
  keys: Readonly<Record<string, JWK>>,
  tokenEndpoint: string,
): void {
  const seenJtis = new Set<string>();
  provider.registerGrantType(JWT_BEARER_GRANT, async (ctx) => {
    const client = ctx.oidc?.client;
    if (!ctx.oidc || !client) throw new errors.InvalidRequest('no authenticated client');
    const assertion = param(ctx, 'assertion');
    if (assertion === undefined) throw new errors.InvalidRequest('assertion is required');
    let iss: unknown;
    try {
      iss = decodeJwt(assertion).iss;
    } catch {
      throw new errors.InvalidGrant('the assertion is not a JWT');
    }
    const jwk = typeof iss === 'string' ? keys[iss] : undefined;
    if (typeof iss !== 'string' || !jwk) throw new errors.InvalidGrant('no key is registered for the assertion issuer');
    let payload;
    try {
      const key = await importJWK(jwk, jwk.alg ?? (jwk.kty === 'EC' ? 'ES256' : 'RS256'));
      ({ payload } = await jwtVerify(assertion, key, {
        issuer: iss,
        audience: [provider.issuer, tokenEndpoint],
        requiredClaims: ['sub', 'exp', 'jti'],
        maxTokenAge: '10m',
      }));
    } catch (e) {
      throw new errors.InvalidGrant(`the assertion failed its checks (${(e as Error).message})`);
    }
    const sub = payload.sub!;
    if (iss !== client.clientId && iss !== sub) throw new errors.InvalidGrant('the assertion was issued neither by this client nor by its subject');
    const jti = String(payload.jti);
    if (seenJtis.has(jti)) throw new errors.InvalidGrant('the assertion was used before');
    if (seenJtis.size >= MAX_JTIS) seenJtis.delete(seenJtis.values().next().value!);
    seenJtis.add(jti);
    if (!users.some((u) => u.claims.sub === sub)) throw new errors.InvalidGrant('unknown subject');

    const scope = param(ctx, 'scope') ?? 'openid';
    const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    ctx.oidc.entity('Grant', grant);
    const at = new provider.AccessToken({ accountId: sub, client, grantId, gty: JWT_BEARER_GRANT });
    at.scope = scope;
    ctx.oidc.entity('AccessToken', at);
    const accessToken = await at.save();
    ctx.body = { access_token: accessToken, token_type: 'Bearer', expires_in: at.expiration, scope };
  }, ['assertion', 'scope']);
}
