import { Agent, fetch as undiciFetch } from 'undici';
import type { TlsFilesConfig } from '../config/types.js';
import { ReloadableDispatcher } from './reloadable-dispatcher.js';
import { clientTlsOptions } from './tls-material.js';

// fetch for openid-client ([customFetch]) and jose (the JWKS), with a `tls:` section's CA
// and client certificate: undici's fetch with an Agent of its own, rebuilt on a TLS reload
// (calls under way finish on the old one). Connections are kept alive as by any fetch.

/** The arguments openid-client and jose pass; their typings differ, undici takes both. */
export type FetchLike = (url: string, options: object) => Promise<Response>;

export class TlsFetch {
  private readonly agent: ReloadableDispatcher<Agent>;

  constructor(name: string, files: TlsFilesConfig) {
    this.agent = new ReloadableDispatcher(name, files, () => new Agent({ connect: clientTlsOptions(files) }));
  }

  readonly fetch: FetchLike = async (url, options) => {
    try {
      // undici's Response is the WHATWG one (openid-client and jose accept it by its tag)
      return (await undiciFetch(url, { ...options, dispatcher: this.agent.dispatcher })) as unknown as Response;
    } catch (err) {
      throw withReason(err);
    }
  };

  close(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * fetch says only "fetch failed"; the reason (an unknown CA, an expired certificate, a
 * refused client certificate) is its cause. Put it in the message, which is what the
 * start-up error and the logs show.
 */
function withReason(err: unknown): unknown {
  if (!(err instanceof TypeError) || !(err.cause instanceof Error)) return err;
  const code = (err.cause as { code?: unknown }).code;
  const reason = `${typeof code === 'string' ? `${code}: ` : ''}${err.cause.message}`;
  return new TypeError(`${err.message}: ${reason}`, { cause: err.cause });
}
