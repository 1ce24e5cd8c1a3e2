import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/types.js';

/** A listening app's port (port 0 in the config: the one the system chose). */
export function boundPort(app: FastifyInstance, configured: number): number {
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : configured;
}

/**
 * Start the public listener and, with server.management, the operators' one; returns the
 * ports they are bound to. `app.close()` closes both (buildApp's onClose).
 */
export async function listenGateway(app: FastifyInstance, config: GatewayConfig): Promise<{ port: number; managementPort?: number }> {
  const { management } = config.server;
  await app.listen({ host: config.server.host, port: config.server.port });
  const port = boundPort(app, config.server.port);
  if (!app.management || !management) return { port };
  await app.management.listen({ host: management.host, port: management.port });
  return { port, managementPort: boundPort(app.management, management.port) };
}
