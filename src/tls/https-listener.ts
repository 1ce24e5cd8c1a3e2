import type { FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { ServerTlsConfig } from '../config/types.js';
import { onTlsReload } from './reloads.js';
import { assertKeyMatches, MIN_TLS_VERSION } from './tls-material.js';
import { readFileSync } from 'node:fs';

// server.tls: the public listener serves HTTPS. On a TLS reload the certificate and key are
// read again and handed to the running server (setSecureContext): handshakes from then on
// use them, connections already open keep theirs, nothing is dropped.

function secureContext(tls: ServerTlsConfig): SecureContextOptions {
  const cert = readFileSync(tls.cert, 'utf8');
  const key = readFileSync(tls.key, 'utf8');
  assertKeyMatches(cert, key);
  return { cert, key, minVersion: MIN_TLS_VERSION };
}

/** fastify's `https` option for server.tls (nothing without it). */
export function httpsOption(tls: ServerTlsConfig | undefined): { https?: SecureContextOptions } {
  return tls === undefined ? {} : { https: secureContext(tls) };
}

/** Renews the listener's certificate on every TLS reload, until the app closes. */
export function renewListenerCertificate(app: FastifyInstance, tls: ServerTlsConfig | undefined): void {
  if (tls === undefined) return;
  const unregister = onTlsReload({
    name: 'server.tls',
    files: [tls.cert, tls.key],
    reload: () => (app.server as unknown as HttpsServer).setSecureContext(secureContext(tls)),
  });
  app.addHook('onClose', async () => unregister());
}
