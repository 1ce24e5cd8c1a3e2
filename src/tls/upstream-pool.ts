import { Pool, type Dispatcher } from 'undici';
import type { TlsFilesConfig } from '../config/types.js';
import { ReloadableDispatcher } from './reloadable-dispatcher.js';
import { clientTlsOptions } from './tls-material.js';

// The connection pool of one route's upstream. A plain http:// upstream gets a Pool; an
// https:// one a Pool whose connections carry the route's `tls` (a private CA, a client
// certificate, servername, TLS 1.2 at least), rebuilt from the files on a TLS reload.
// Connections are kept alive and reused either way (and TLS sessions resumed by undici).

export interface UpstreamPool {
  request(options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

export interface UpstreamPoolOptions {
  /** the route's prefix, for the log of a reload */
  name: string;
  tls?: TlsFilesConfig;
  poolOptions: Pool.Options;
}

export function createUpstreamPool(url: URL, options: UpstreamPoolOptions): UpstreamPool {
  if (url.protocol !== 'https:') return new Pool(url.origin, options.poolOptions);
  const make = () => new Pool(url.origin, { ...options.poolOptions, connect: clientTlsOptions(options.tls) });
  const pool = new ReloadableDispatcher(`routes ${options.name} upstream`, options.tls, make);
  return {
    request: (opts) => pool.dispatcher.request(opts),
    close: () => pool.close(),
  };
}
