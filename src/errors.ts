// Every error the gateway answers with: a stable code, an HTTP status, and who is at fault
// (the caller, or the gateway and what stands behind it). Rendering to JSON happens in
// one place (observability/error-handler.ts); SOAP routes render the same values as Faults.

export type Fault = 'client' | 'server';

export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fault: Fault;
  readonly headers: Readonly<Record<string, string>>;
  readonly description: string | undefined;

  constructor(
    code: string,
    status: number,
    opts: { description?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(opts.description ?? code, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = status;
    this.fault = status >= 500 ? 'server' : 'client';
    this.headers = opts.headers ?? {};
    this.description = opts.description;
  }

  /** The JSON body of the contract: {"error": code} (+ error_description when there is one). */
  toJSON(): { error: string; error_description?: string } {
    return this.description === undefined
      ? { error: this.code }
      : { error: this.code, error_description: this.description };
  }
}

type Opts = { description?: string; cause?: unknown };

/** How long a client should wait before retrying after the token service failed. */
const TOKEN_SERVICE_RETRY_AFTER_SECONDS = 5;

/**
 * On every 401 of the gateway's session (JSON or SOAP Fault): tells an SPA it is the gateway's
 * (an upstream's own 401 has its own challenge, or none), why, and where to log in. README,
 * "The SPA's 401s".
 */
const sessionChallenge = (code: string) => ({ 'www-authenticate': `BFF-Session error="${code}", login_uri="/auth/login"` });

export const errors = {
  csrfHeaderMissing: () => new GatewayError('csrf_header_missing', 403),
  /** the IdP refused the token exchange of a route with `exchange` (RFC 8693) */
  exchangeRefused: (opts: Opts = {}) => new GatewayError('exchange_refused', 403, opts),
  unauthenticated: () => new GatewayError('unauthenticated', 401, { headers: sessionChallenge('unauthenticated') }),
  sessionExpired: () => new GatewayError('session_expired', 401, { headers: sessionChallenge('session_expired') }),
  invalidRequest: (description?: string) =>
    new GatewayError('invalid_request', 400, description === undefined ? {} : { description }),
  /** an error of the OIDC login callback, as the contract shapes it */
  loginFailed: (code: string, description: string) => new GatewayError(code, 400, { description }),
  tokenServiceUnavailable: (opts: Opts = {}) =>
    new GatewayError('token_service_unavailable', 503, {
      ...opts,
      headers: { 'retry-after': String(TOKEN_SERVICE_RETRY_AFTER_SECONDS) },
    }),
  sessionStoreUnavailable: (opts: Opts = {}) =>
    new GatewayError('session_store_unavailable', 503, { ...opts, headers: { 'retry-after': '1' } }),
  badGateway: (opts: Opts = {}) => new GatewayError('bad_gateway', 502, opts),
  gatewayTimeout: (opts: Opts = {}) => new GatewayError('gateway_timeout', 504, opts),
  notFound: () => new GatewayError('not_found', 404),
  payloadTooLarge: () => new GatewayError('payload_too_large', 413),
  /** a SOAP route's POST body that is not a well-formed SOAP envelope (or holds a DOCTYPE) */
  invalidSoapEnvelope: (description: string) => new GatewayError('invalid_soap_envelope', 400, { description }),
  /** a SOAP operation that is not in the route's `soap.operations` (or an empty Body there) */
  soapOperationNotAllowed: (description: string) => new GatewayError('soap_operation_not_allowed', 400, { description }),
  methodNotAllowed: (allow: string) => new GatewayError('method_not_allowed', 405, { headers: { allow } }),
  /** the request body did not arrive within the route's timeout */
  requestTimeout: () => new GatewayError('request_timeout', 408),
  internal: (opts: Opts = {}) => new GatewayError('internal_error', 500, opts),
  /** a WebSocket upgrade whose Origin is not in server.allowedOrigins (the CSRF defence of upgrades) */
  originNotAllowed: () => new GatewayError('origin_not_allowed', 403),
  /** a WebSocket upgrade while the gateway shuts down */
  shuttingDown: () => new GatewayError('shutting_down', 503, { headers: { 'retry-after': '1' } }),
} as const;

/** Thrown by a store when it cannot be reached; becomes session_store_unavailable. */
export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
  constructor(cause: unknown) {
    super('session store unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** An error as one log line: class, code and message down its causes, never an object graph. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const inner = error.cause instanceof Error ? ` <- ${describeError(error.cause)}` : '';
  return `${error.name}${typeof code === 'string' ? `(${code})` : ''}: ${error.message}${inner}`;
}
