import type { FastifyBaseLogger } from 'fastify';
import { reloadTls } from './reloads.js';

// SIGHUP re-reads every certificate and key file (cert-manager and the like renew them in
// place). One log line per reload; a part that could not reload is a warning and keeps its
// old material. Without a listener Node would end the process on SIGHUP.

export function reloadTlsOnSighup(log: FastifyBaseLogger): () => void {
  const onSignal = () => {
    void reloadTls().then((results) => {
      const failed = results.filter((r) => r.error !== undefined);
      for (const f of failed) log.warn({ part: f.name, reason: f.error }, 'TLS reload failed; the old certificate stays in use');
      log.info({ reloaded: results.length - failed.length, failed: failed.length }, 'TLS files re-read (SIGHUP)');
    });
  };
  process.on('SIGHUP', onSignal);
  return () => process.off('SIGHUP', onSignal);
}
