import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The regression corpus: test/fixtures/fuzz/<target>/<hash>.json, one input each (JSON, so
// any string survives, lone surrogates and control characters included). `npm test`
// replays every entry (test/unit/fuzz-corpus.test.ts); the fuzzer adds each failing input
// and mutates entries as seeds.

export const CORPUS_DIR = join(process.cwd(), 'test', 'fixtures', 'fuzz');

export interface CorpusEntry {
  target: string;
  input: string;
  /** why it is here: the failure it caused when found, or why it was seeded */
  note: string;
  found?: string;
}

export function readCorpus(target: string): CorpusEntry[] {
  const dir = join(CORPUS_DIR, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as CorpusEntry);
}

/** Saves an entry under the hash of its input, unless it is there already; returns the file name. */
export function saveToCorpus(entry: CorpusEntry): string {
  const dir = join(CORPUS_DIR, entry.target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(entry.input).digest('hex').slice(0, 16)}.json`);
  // an input already there (a seed, an earlier find) keeps its note
  if (!existsSync(file)) writeFileSync(file, `${JSON.stringify(entry, null, 2)}\n`);
  return file;
}
