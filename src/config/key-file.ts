import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMapping } from './validate.js';
import { text } from './values.js';

// Key files named in the config (oidc.privateKeyFile, tokenSources.<name>.assertion.keyFile):
// resolved against the config file's directory and checked at load, so a missing or wrong
// file is a configuration error naming its key, not a failure at the first login.

/** The JSON object in `value`'s file, and the file's absolute path; throws a readable error. */
function readJsonObject(baseDir: string, value: unknown): { file: string; json: Record<string, unknown> } {
  const file = resolve(baseDir, text(value));
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    // reported below
  }
  if (!isMapping(json)) throw new Error(`${file} is not a JSON object (a JWK or a JWK set)`);
  return { file, json };
}

/** A file holding a JWK or a JWK set → its absolute path. */
export function jsonKeyFile(baseDir: string): (value: unknown) => string {
  return (value) => readJsonObject(baseDir, value).file;
}

/** A file holding a private JWK → its absolute path. */
export function jwkFile(baseDir: string): (value: unknown) => string {
  return (value) => {
    const { file, json: jwk } = readJsonObject(baseDir, value);
    if (typeof jwk.kty !== 'string') throw new Error(`${file} is not a JSON Web Key`);
    if (typeof jwk.d !== 'string') throw new Error(`${file} holds no private key (a JWK with "d")`);
    return file;
  };
}
