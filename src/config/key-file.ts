import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMapping } from './validate.js';
import { text } from './values.js';

/** A JSON file holding a JWK, resolved against the config file's directory → absolute path. */
export function jwkFile(baseDir: string): (value: unknown) => string {
  return (value) => {
    const file = resolve(baseDir, text(value));
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    let jwk: unknown;
    try {
      jwk = JSON.parse(content);
    } catch {
      // reported below
    }
    if (!isMapping(jwk) || typeof jwk.kty !== 'string') throw new Error(`${file} is not a JSON Web Key`);
    if (typeof jwk.d !== 'string') throw new Error(`${file} holds no private key (a JWK with "d")`);
    return file;
  };
}
