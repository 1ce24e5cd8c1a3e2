// ${VAR} substitution in the string scalars of the parsed YAML tree. It runs after parsing,
// so a secret holding ':', '#', quotes or newlines cannot change the document's structure.
//   ${VAR}          the environment variable VAR (a problem when it is not set)
//   ${VAR:-default} VAR, or `default` when VAR is unset or empty
//   $$              a literal $

import { isMapping, joinPath, report, type ConfigProblem } from './validate.js';

const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g;

export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  path = '',
): unknown {
  if (typeof value === 'string') return substitute(value, env, { path, problems });
  if (Array.isArray(value)) return value.map((item: unknown, i) => interpolate(item, env, problems, joinPath(path, i)));
  if (isMapping(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env, problems, joinPath(path, key))]),
    );
  }
  return value;
}

function substitute(text: string, env: NodeJS.ProcessEnv, ctx: { path: string; problems: ConfigProblem[] }): string {
  return text.replace(REFERENCE, (match: string, name?: string, fallback?: string) => {
    if (match === '$$') return '$';
    if (name === undefined) {
      report(ctx, 'malformed ${...} reference: write ${NAME}, ${NAME:-default}, or $$ for a literal $');
      return '';
    }
    const set = env[name];
    if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
    if (set !== undefined) return set;
    report(ctx, `environment variable ${name} is not set`);
    return '';
  });
}
