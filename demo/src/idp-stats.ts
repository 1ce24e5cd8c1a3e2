// Counters of what the demo identity provider did, fed by oidc-provider's events.
// (oidc-provider 9 has no revocation event: the revocation and token endpoint
// calls are counted by the middleware in idp.ts.)
import type { KoaContext, Provider } from 'oidc-provider';

export interface IdpStats {
  tokenRequests: number; // every POST to the token endpoint, injected failures included
  tokenRequestsPeak: number; // the most token requests in flight at once (since the last reset)
  codeExchanges: number; // successful authorization_code grants
  refreshes: number; // successful refresh_token grants
  refreshFailures: number; // failed refresh_token grants (injected failures not included)
  refreshFailuresByError: Record<string, number>; // e.g. { invalid_grant: 2 }
  clientCredentials: number; // successful client_credentials grants
  passwordGrants: number; // successful password grants
  tokenExchanges: number; // successful token exchanges (RFC 8693)
  passwordGrantFailures: number; // failed password grants (wrong password, unknown user, ...)
  injectedFailures: number; // token requests answered by setTokenEndpointFailure
  revocations: number; // POSTs to the revocation endpoint
  grantRevocations: number; // grants revoked: refresh token reuse, revocation, logout
  endSessions: number; // completed RP-initiated logouts
  backchannelLogouts: number; // back-channel logout tokens delivered (200/204)
  backchannelLogoutFailures: number;
}

export function emptyStats(): IdpStats {
  return {
    tokenRequests: 0, tokenRequestsPeak: 0, codeExchanges: 0, refreshes: 0, refreshFailures: 0, refreshFailuresByError: {},
    clientCredentials: 0, passwordGrants: 0, tokenExchanges: 0, passwordGrantFailures: 0, injectedFailures: 0, revocations: 0, grantRevocations: 0, endSessions: 0,
    backchannelLogouts: 0, backchannelLogoutFailures: 0,
  };
}

function grantType(ctx: KoaContext): unknown {
  return ctx.oidc?.params?.grant_type;
}

/** Counts the provider's events into `stats`; logs server errors and failed back-channel logouts. */
export function countProviderEvents(provider: Provider, stats: IdpStats): void {
  provider.on('grant.success', (ctx) => {
    const type = grantType(ctx);
    if (type === 'authorization_code') stats.codeExchanges += 1;
    else if (type === 'refresh_token') stats.refreshes += 1;
    else if (type === 'client_credentials') stats.clientCredentials += 1;
    else if (type === 'password') stats.passwordGrants += 1;
    else if (type === 'urn:ietf:params:oauth:grant-type:token-exchange') stats.tokenExchanges += 1;
  });
  provider.on('grant.error', (ctx, err) => {
    if (grantType(ctx) === 'password') stats.passwordGrantFailures += 1;
    if (grantType(ctx) !== 'refresh_token') return;
    const code = err.error ?? 'server_error';
    stats.refreshFailures += 1;
    stats.refreshFailuresByError[code] = (stats.refreshFailuresByError[code] ?? 0) + 1;
  });
  provider.on('grant.revoked', () => { stats.grantRevocations += 1; });
  provider.on('end_session.success', () => { stats.endSessions += 1; });
  provider.on('backchannel.success', () => { stats.backchannelLogouts += 1; });
  provider.on('backchannel.error', (_ctx, err, client) => {
    stats.backchannelLogoutFailures += 1;
    console.error(`[demo-idp] back-channel logout to ${client.clientId} failed: ${err.message}`);
  });
  provider.on('server_error', (_ctx, err) => { console.error('[demo-idp] server error:', err); });
}
