import type { Dispatcher } from 'undici';
import { onTlsReload } from './reloads.js';
import type { TlsFilesConfig } from '../config/types.js';
import { tlsFileList } from './tls-material.js';

// An undici dispatcher (a Pool, an Agent) built from TLS files, rebuilt on a TLS reload:
// new calls go to the new one at once, while the old one is closed gracefully (undici's
// close() lets the calls it is running finish, then ends its connections). A rebuild that
// throws (unreadable files) keeps the old dispatcher.

export class ReloadableDispatcher<D extends Dispatcher> {
  private current: D;
  private readonly unregister: () => void;

  constructor(name: string, files: TlsFilesConfig | undefined, private readonly make: () => D) {
    this.current = make();
    this.unregister = onTlsReload({ name, files: tlsFileList(files), reload: () => this.rebuild() });
  }

  get dispatcher(): D {
    return this.current;
  }

  private rebuild(): void {
    const next = this.make();
    const old = this.current;
    this.current = next;
    void old.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.unregister();
    await this.current.close();
  }
}
