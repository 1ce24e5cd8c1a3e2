import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/schema.js';
import { Reader } from '../../src/config/validate.js';

// docs/configuration.md documents every key the schema reads, and no key it does not.
// The key list comes from the schema code itself: every section is a Reader, so the test
// records each key a Reader looks at while the validator walks a probe tree, and grows the
// probe (a mapping, a list of one mapping, a mapping of one free name) wherever that makes
// the validator look at deeper keys.

const PROBE_NAME = 'probe-name';
type Tree = Record<string, unknown>;

function keysRead(tree: Tree): Set<string> {
  const seen = new Set<string>();
  const peek = Reader.prototype.peek;
  Reader.prototype.peek = function (this: Reader, key: string) {
    seen.add(this.path === '' ? key : `${this.path}.${key}`);
    return peek.call(this, key);
  };
  try {
    validateConfig(tree, { baseDir: '/nonexistent' }, []);
  } finally {
    Reader.prototype.peek = peek;
  }
  return seen;
}

function withValue(tree: Tree, path: string, value: unknown): Tree {
  const copy = structuredClone(tree);
  const parts = path.split('.').flatMap((p) => p.split(/\[(\d+)\]/).filter(Boolean));
  let node: Record<string, unknown> | unknown[] = copy;
  for (const part of parts.slice(0, -1)) {
    const parent = node as Record<string, unknown>;
    parent[part] ??= {}; // a section the validator reads with a default ({}) when absent
    node = parent[part] as Record<string, unknown>;
  }
  (node as Record<string, unknown>)[parts.at(-1)!] = value;
  return copy;
}

/** Every key path the schema reads, as the docs write them: routes[].soap.inject, tokenSources.<name>.grant. */
function schemaKeys(): string[] {
  let tree: Tree = {};
  let known = keysRead(tree);
  const tried = new Set<string>();
  for (let grown = true; grown;) {
    grown = false;
    for (const path of [...known]) {
      if (tried.has(path)) continue;
      tried.add(path);
      for (const shape of [{}, [{}], { [PROBE_NAME]: {} }]) {
        const candidate = withValue(tree, path, shape);
        const keys = keysRead(candidate);
        if ([...keys].some((k) => !known.has(k))) {
          tree = candidate;
          known = new Set([...known, ...keys]);
          grown = true;
          break;
        }
      }
    }
  }
  const normal = [...known].map((k) => k.replaceAll(/\[\d+\]/g, '[]').replaceAll(`.${PROBE_NAME}.`, '.<name>.'));
  return [...new Set(normal)].sort();
}

/** The keys the reference documents: a backticked key path (lower-case first letter) opening a table row. */
function documentedKeys(markdown: string): string[] {
  return [...markdown.matchAll(/^\|\s*`([a-z][\w.<>[\]]*)`\s*\|/gm)].map((m) => m[1]!);
}

let keys: string[];
let documented: string[];

beforeAll(() => {
  keys = schemaKeys();
  documented = documentedKeys(readFileSync('docs/configuration.md', 'utf8'));
});

describe('docs/configuration.md', () => {
  it('the schema probe finds the keys of every section, nested ones included', () => {
    // a few known keys of each kind, so a probe that stops finding keys cannot pass unnoticed
    for (const key of ['server.port', 'store.sentinel.nodes', 'store.cluster.nodes', 'session.encryptionKeys',
      'oidc.refreshBefore', 'tokenSources.<name>.grant', 'routes[].prefix', 'routes[].soap.inject']) {
      expect(keys).toContain(key);
    }
    expect(keys.length).toBeGreaterThan(40);
  });

  it('documents every key of the schema', () => {
    expect(keys.filter((k) => !documented.includes(k))).toEqual([]);
  });

  it('documents no key the schema does not read', () => {
    expect(documented.filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('documents each key once', () => {
    expect(documented.filter((k, i) => documented.indexOf(k) !== i)).toEqual([]);
  });
});
