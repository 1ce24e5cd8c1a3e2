import { unwatchFile, watchFile, type Stats } from 'node:fs';

// Certificate files renewed in place (cert-manager, a Kubernetes secret volume swapping its
// symlink) are noticed without a SIGHUP: each file is polled (fs.watchFile follows the path,
// so a replaced file or a swapped link counts), and a change, once the files have been
// quiet for a moment (a renewal writes a certificate and a key), triggers one reload.

const POLL_MS = 1_000;
const QUIET_MS = 500;

export function watchTlsFiles(files: readonly string[], onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const changed = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, QUIET_MS);
    timer.unref();
  };
  for (const file of files) watchFile(file, { interval: POLL_MS, persistent: false }, changed);
  return () => {
    clearTimeout(timer);
    for (const file of files) unwatchFile(file, changed);
  };
}
