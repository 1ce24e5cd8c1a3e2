// A cap on the token endpoint requests one gateway instance has in flight at once
// (oidc.tokenConcurrency): when many sessions expire together, the IdP sees at most this
// many refreshes from an instance; the rest wait their turn, first come first served.
// No timeout of its own: every caller already bounds its wait (lock polls, IdP timeouts).

export class TokenConcurrency {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`token concurrency must be a positive integer, got ${limit}`);
  }

  /** Requests running now. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `task` once a slot is free, in arrival order (at once, in this very call, when one
   * is free now); the slot is freed when the task settles, whether it succeeds or fails.
   */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active < this.limit) this.#active += 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next(); // the slot passes straight to the next in line: #active stays the same
    else this.#active -= 1;
  }
}
