import type { FastifyBaseLogger } from 'fastify';
import { registeredTlsFiles, reloadTls } from './reloads.js';
import { watchTlsFiles } from './watch.js';

// Every certificate and key file is re-read on SIGHUP, and when one of them changes on disk
// (watch.ts). One log line per reload; a part that could not reload is a warning and keeps
// its old material. Without a SIGHUP listener Node would end the process on SIGHUP.

export function reloadTlsOnSighupAndChange(log: FastifyBaseLogger): () => void {
  const reload = (why: string) => {
    void reloadTls().then((results) => {
      const failed = results.filter((r) => r.error !== undefined);
      for (const f of failed) log.warn({ part: f.name, reason: f.error }, 'TLS reload failed; the old certificate stays in use');
      log.info({ reloaded: results.length - failed.length, failed: failed.length, why }, `TLS files re-read (${why})`);
    });
  };
  const onSignal = () => reload('SIGHUP');
  process.on('SIGHUP', onSignal);
  const unwatch = watchTlsFiles(registeredTlsFiles(), () => reload('file change'));
  return () => {
    process.off('SIGHUP', onSignal);
    unwatch();
  };
}
