import type { AccessToken } from '../session/session.js';

// The result of a refresh, kept for a few seconds: a caller that read the session just
// before the new tokens were written (its copy still holds the consumed refresh token)
// finds the successor here instead of taking the lock and re-reading the store.

interface Successor {
  /** the session version the refresh replaced: callers holding this or older are stale */
  replaced: number;
  token: AccessToken;
  until: number;
}

export class Successors {
  private readonly entries = new Map<string, Successor>();

  constructor(private readonly ttlMs: number) {}

  remember(key: string, replaced: number, token: AccessToken): void {
    if (this.entries.size >= 10_000) this.sweep();
    this.entries.set(key, { replaced, token, until: Date.now() + this.ttlMs });
  }

  /** The newer token for a caller whose session copy is at `version`, if one is known. */
  find(key: string, version: number): AccessToken | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return version <= entry.replaced ? entry.token : undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.until <= now) this.entries.delete(key);
  }
}
