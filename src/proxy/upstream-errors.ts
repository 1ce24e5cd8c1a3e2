import { errors, type GatewayError } from '../errors.js';

/** An error of @fastify/reply-from as the contract names it: 504 for timeouts, else 502. */
export function upstreamError(error: unknown): GatewayError {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return status === 504 ? errors.gatewayTimeout({ cause: error }) : errors.badGateway({ cause: error });
}
