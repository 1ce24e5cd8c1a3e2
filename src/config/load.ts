// Loading a configuration: YAML → ${VAR} interpolation → validation (schema.ts).

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { interpolate } from './interpolate.js';
import { validateConfig } from './schema.js';
import type { GatewayConfig } from './types.js';
import type { ConfigProblem } from './validate.js';

export type { ConfigProblem } from './validate.js';

/** Every problem of a configuration; the message lists them one per line as `path: message`. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';

  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface ParseOptions {
  /** where ${VAR} values come from; default process.env */
  env?: NodeJS.ProcessEnv;
  /** directory that relative file names are resolved against; default the working directory */
  baseDir?: string;
}

export function parseConfig(text: string, opts: ParseOptions = {}): GatewayConfig {
  const tree = parseYaml(text);
  const interpolationProblems: ConfigProblem[] = [];
  const raw = interpolate(tree, opts.env ?? process.env, interpolationProblems);
  const schemaProblems: ConfigProblem[] = [];
  const config = validateConfig(raw, { baseDir: opts.baseDir ?? process.cwd() }, schemaProblems);
  // a value whose variable is missing was already reported: don't also report it as, say, empty
  const reported = new Set(interpolationProblems.map((p) => p.path));
  const problems = [...interpolationProblems, ...schemaProblems.filter((p) => !reported.has(p.path))];
  if (problems.length > 0) throw new ConfigError(problems);
  if (config === undefined) throw new ConfigError([{ path: '(root)', message: 'invalid configuration' }]);
  return config;
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError([{ path: '(file)', message: `cannot read ${file}: ${reason}` }]);
  }
  return parseConfig(text, { env, baseDir: dirname(resolve(file)) });
}

function parseYaml(text: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const problems = doc.errors.map((err) => {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    return { path: '(yaml)', message: `line ${line}, column ${col}: ${err.message.split('\n')[0] ?? ''}` };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([{ path: '(yaml)', message: (err as Error).message }]);
  }
}
