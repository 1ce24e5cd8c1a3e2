import type { ConnectionOptions } from 'node:tls';
import type { TlsFilesConfig } from '../config/types.js';
import { onTlsReload } from './reloads.js';
import { clientTlsOptions, tlsFileList } from './tls-material.js';

// store.tls for ioredis: one options object shared by every connection of a store (ioredis
// copies the reference into duplicate() and into a cluster's node connections). A reload
// refreshes that object in place: ioredis reads it on every (re)connect, so new connections
// get the new material and the open ones are left alone.

export interface RedisTls {
  options: ConnectionOptions;
  /** stop reloading (when the client has ended) */
  release(): void;
}

export function redisTls(files: TlsFilesConfig): RedisTls {
  const options: ConnectionOptions = { ...clientTlsOptions(files) };
  const release = onTlsReload({
    name: 'store.tls',
    files: tlsFileList(files),
    reload: () => {
      const next = clientTlsOptions(files);
      for (const key of ['ca', 'cert', 'key'] as const) delete options[key];
      Object.assign(options, next);
    },
  });
  return { options, release };
}
