// Certificate renewal: everything that holds TLS material (an upstream's pool, the IdP's
// fetch, the HTTPS listener...) registers here how to rebuild itself from its files, and
// `reloadTls()` (SIGHUP in cli.ts, or a test) runs every one of them. A rebuild only ever
// affects new connections: connections and calls already open finish on the old material.
// One registry per process: every app of the process reloads on the one signal.

export interface TlsReloadable {
  /** what the log says (e.g. "routes /api upstream") */
  readonly name: string;
  /** the files it is built from (watched for changes, see watch.ts) */
  readonly files: readonly string[];
  reload(): void | Promise<void>;
}

export interface TlsReloadResult {
  name: string;
  /** why the old material was kept */
  error?: string;
}

const registered = new Set<TlsReloadable>();

/** Registers; the returned function unregisters (call it on close). */
export function onTlsReload(target: TlsReloadable): () => void {
  registered.add(target);
  return () => registered.delete(target);
}

/** Every file some registered part is built from. */
export function registeredTlsFiles(): string[] {
  return [...new Set([...registered].flatMap((target) => target.files))];
}

/**
 * Re-reads every registered TLS configuration. One that fails (a file half-written, a key
 * that does not match yet) keeps its old material and is named in the results: the next
 * SIGHUP tries again.
 */
export async function reloadTls(): Promise<TlsReloadResult[]> {
  const results: TlsReloadResult[] = [];
  for (const target of [...registered]) {
    try {
      await target.reload();
      results.push({ name: target.name });
    } catch (err) {
      results.push({ name: target.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return results;
}
