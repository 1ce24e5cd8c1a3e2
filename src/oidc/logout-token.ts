import { createRemoteJWKSet, customFetch, errors as jose, jwtVerify, type FetchImplementation, type JWTPayload } from 'jose';
import { tracedJwksFetch } from './traced-fetch.js';

// OpenID Connect Back-Channel Logout 1.0 §2.6: the checks a logout token must pass.
// The signature by a key of the issuer's JWKS (asymmetric algorithms only, so never
// "none"), iss, aud, a recent iat, a jti, the back-channel logout event, no nonce, and a
// sid or a sub. Replay of a jti is the caller's check (it needs the shared store).

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** The token is not a valid logout token: the answer is 400. */
export class LogoutTokenError extends Error {
  readonly code = 'invalid_logout_token';
  constructor(reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.name = 'LogoutTokenError';
  }
}

export interface VerifiedLogout {
  jti: string;
  sid?: string;
  sub?: string;
}

export interface LogoutTokenOptions {
  issuer: string;
  clientId: string;
  jwksUri: string;
  /** how old (by iat) a logout token may be */
  maxAgeSeconds: number;
  clockToleranceSeconds: number;
  /** the IdP's fetch (oidc.tls); default the global one */
  fetch?: (url: string, options: object) => Promise<Response>;
}

export class LogoutTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly options: LogoutTokenOptions) {
    const fetchImpl = tracedJwksFetch(options.fetch as FetchImplementation | undefined);
    this.jwks = createRemoteJWKSet(new URL(options.jwksUri), {
      timeoutDuration: 5_000,
      cooldownDuration: 30_000,
      ...(fetchImpl === undefined ? {} : { [customFetch]: fetchImpl as FetchImplementation }),
    });
  }

  /** How long a jti must be remembered: as long as a token carrying it would be accepted. */
  get replayWindowMs(): number {
    return (this.options.maxAgeSeconds + 2 * this.options.clockToleranceSeconds) * 1000;
  }

  async verify(token: string): Promise<VerifiedLogout> {
    const { issuer, clientId, maxAgeSeconds, clockToleranceSeconds } = this.options;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer,
        audience: clientId,
        algorithms: ASYMMETRIC_ALGORITHMS,
        maxTokenAge: maxAgeSeconds,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['iat', 'jti'],
      }));
    } catch (e) {
      // an unreachable JWKS is not the token's fault: let it surface as a 503
      if (isTokenFault(e)) throw new LogoutTokenError(`logout token rejected: ${(e as Error).message}`, e);
      throw e;
    }
    const events = payload.events as Record<string, unknown> | undefined;
    const event = events?.[BACKCHANNEL_LOGOUT_EVENT];
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new LogoutTokenError('logout token has no back-channel logout event');
    }
    if ('nonce' in payload) throw new LogoutTokenError('logout token carries a nonce');
    if (typeof payload.jti !== 'string' || payload.jti === '') throw new LogoutTokenError('logout token has no jti');
    const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined;
    const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
    if (!sid && !sub) throw new LogoutTokenError('logout token names neither sid nor sub');
    return { jti: payload.jti, ...(sid ? { sid } : {}), ...(sub ? { sub } : {}) };
  }
}

function isTokenFault(e: unknown): boolean {
  if (!(e instanceof jose.JOSEError)) return false;
  return !(e instanceof jose.JWKSTimeout) && !(e instanceof jose.JWKSInvalid);
}
