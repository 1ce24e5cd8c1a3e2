// A small toolkit to validate a plain object tree while collecting every problem with its
// key path ("routes[1].soap.inject"), instead of stopping at the first one.

export interface ConfigProblem {
  path: string;
  message: string;
}

/** Where a value sits, and where its problems go. */
export interface Ctx {
  readonly path: string;
  readonly problems: ConfigProblem[];
}

/**
 * Turns a raw value into a T. A plain value parser throws an Error whose message is the
 * problem (recorded at ctx.path); a structured one records its own problems and returns
 * undefined when it cannot produce a value. Values are never echoed for secrets.
 */
export type Parse<T> = (value: unknown, ctx: Ctx) => T | undefined;

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

export function report(ctx: Ctx, message: string): void {
  ctx.problems.push({ path: ctx.path === '' ? '(root)' : ctx.path, message });
}

/** Runs a parser, turning a thrown Error into a problem at ctx.path. */
export function run<T>(parse: Parse<T>, value: unknown, ctx: Ctx): T | undefined {
  try {
    return parse(value, ctx);
  } catch (err) {
    report(ctx, err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

/** Reads the keys of one mapping; every key not read is reported as unknown. */
export class Reader implements Ctx {
  private readonly seen = new Set<string>();

  constructor(
    readonly path: string,
    private readonly node: Record<string, unknown>,
    readonly problems: ConfigProblem[],
  ) {}

  at(key: string): Ctx {
    return { path: joinPath(this.path, key), problems: this.problems };
  }

  report(message: string, key?: string): void {
    report(key === undefined ? this : this.at(key), message);
  }

  /** The raw value (null counts as absent). */
  peek(key: string): unknown {
    this.seen.add(key);
    return Object.hasOwn(this.node, key) ? (this.node[key] ?? undefined) : undefined;
  }

  has(key: string): boolean {
    return this.peek(key) !== undefined;
  }

  opt<T>(key: string, parse: Parse<T>): T | undefined {
    const value = this.peek(key);
    return value === undefined ? undefined : run(parse, value, this.at(key));
  }

  get<T>(key: string, parse: Parse<T>, fallback: T): T {
    return this.opt(key, parse) ?? fallback;
  }

  req<T>(key: string, parse: Parse<T>, why?: string): T | undefined {
    if (this.has(key)) return this.opt(key, parse);
    this.report(why === undefined ? 'is required' : `is required ${why}`, key);
    return undefined;
  }

  /** Required when `needed`, refused when not needed, optional when it cannot be told. */
  only<T>(needed: boolean | undefined, key: string, parse: Parse<T>, why: string): T | undefined {
    if (needed === true) return this.req(key, parse, why);
    if (needed === false && this.has(key)) {
      this.report(`is only used ${why}`, key);
      return undefined;
    }
    return this.opt(key, parse);
  }

  reportUnknownKeys(): void {
    for (const key of Object.keys(this.node)) if (!this.seen.has(key)) this.report('unknown key', key);
  }
}

/** A mapping with known keys, read by `build`. */
export function section<T>(build: (r: Reader) => T | undefined): Parse<T> {
  return (value, ctx) => {
    if (!isMapping(value)) throw new Error('must be a mapping (key: value pairs)');
    const reader = new Reader(ctx.path, value, ctx.problems);
    const result = build(reader);
    reader.reportUnknownKeys();
    return result;
  };
}

/** A list; the items that are valid are kept, the others are reported with their index. */
export function listOf<T>(item: Parse<T>, opts: { nonEmpty?: boolean } = {}): Parse<T[]> {
  return (value, ctx) => {
    if (!Array.isArray(value)) throw new Error('must be a list');
    if (opts.nonEmpty === true && value.length === 0) throw new Error('must not be empty');
    return value.flatMap((v: unknown, i) => {
      const out = run(item, v, { path: joinPath(ctx.path, i), problems: ctx.problems });
      return out === undefined ? [] : [out];
    });
  };
}

/** A mapping of free names to items; `key` throws for a name that is not allowed. */
export function mapOf<T>(item: Parse<T>, key?: (name: string) => void): Parse<Record<string, T>> {
  return (value, ctx) => {
    if (!isMapping(value)) throw new Error('must be a mapping (name: settings)');
    const entries = Object.entries(value).flatMap(([name, v]) => {
      const at = { path: joinPath(ctx.path, name), problems: ctx.problems };
      if (key !== undefined) run((n) => key(String(n)), name, at);
      const out = run(item, v, at);
      return out === undefined ? [] : [[name, out] as const];
    });
    return Object.fromEntries(entries);
  };
}
