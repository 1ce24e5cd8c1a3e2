import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

// The gateway as npm publishes it and as its image installs it: without the demo. The
// production dependency tree is computed offline from package-lock.json (what `npm ci
// --omit=dev --workspaces=false`, the runtime image's install, puts in node_modules); the
// packed file list is `npm pack --dry-run`'s.

const run = promisify(execFile);

interface LockEntry {
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface Manifest {
  dependencies?: Record<string, string>;
  workspaces?: string[];
}

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;

/** Where node finds `name` from the package at `from`: its own node_modules, then its ancestors'. */
function locate(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!dir) return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

/** The names of every package the production install of the package at `start` holds. */
function productionClosure(start: string): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    if (seen.has(at)) continue;
    seen.add(at);
    const entry = lock.packages[at];
    if (!entry) throw new Error(`package-lock.json has no entry ${at}`);
    if (entry.link && entry.resolved !== undefined) {
      queue.push(entry.resolved);
      continue;
    }
    const optionalPeers = new Set(Object.keys(entry.peerDependenciesMeta ?? {}).filter((n) => entry.peerDependenciesMeta?.[n]?.optional));
    const required = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n))];
    for (const name of required) {
      const found = locate(at, name);
      if (!found) throw new Error(`package-lock.json: ${at || 'the root'} needs ${name}, which it does not hold`);
      queue.push(found);
    }
    for (const name of [...Object.keys(entry.optionalDependencies ?? {}), ...optionalPeers]) {
      const found = locate(at, name);
      if (found) queue.push(found);
    }
  }
  seen.delete(start);
  return new Set([...seen].map((location) => location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length)));
}

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]);
}

/** The module specifiers a TypeScript source imports or re-exports, static and dynamic. */
function specifiersOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)'([^']+)'/g)].map((m) => m[1]!);
}

const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

describe('the production dependency tree (package-lock.json)', () => {
  it('is the lock of this package.json: same dependencies, the demo a workspace', () => {
    expect(lock.packages['']?.dependencies).toEqual(manifest.dependencies);
    expect(manifest.workspaces).toEqual(['demo']);
  });

  it('holds no oidc-provider, nor its web framework', () => {
    const gateway = productionClosure('');
    for (const name of Object.keys(manifest.dependencies ?? {})) expect(gateway).toContain(name);
    expect(gateway).not.toContain('oidc-provider');
    expect(gateway).not.toContain('koa');
    expect(gateway).not.toContain('bff-gateway-demo');
  });

  it('is computed the way that finds oidc-provider where it is: in the demo workspace', () => {
    const demo = productionClosure('demo');
    expect(demo).toContain('oidc-provider');
    expect(demo).toContain('koa');
  });

  it('is what src/ imports: every package the gateway imports is a dependency, and every dependency is imported', () => {
    const imported = new Set(filesUnder('src').filter((f) => f.endsWith('.ts')).flatMap(specifiersOf)
      .filter((s) => !s.startsWith('.') && !s.startsWith('node:')).map(packageName));
    expect([...imported].sort()).toEqual(Object.keys(manifest.dependencies ?? {}).sort());
  });

  it('never reaches the demo from the gateway: src/ imports nothing outside src/', () => {
    const src = resolve('src');
    for (const file of filesUnder('src').filter((f) => f.endsWith('.ts'))) {
      for (const specifier of specifiersOf(file).filter((s) => s.startsWith('.'))) {
        const target = relative(src, resolve(dirname(file), specifier));
        expect(target.startsWith('..'), `${file} imports ${specifier}`).toBe(false);
      }
    }
  });
});

describe('npm pack', () => {
  let files: string[];

  beforeAll(async () => {
    if (!existsSync('dist/src/cli.js')) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    // --ignore-scripts: `prepare` would compile again
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { timeout: 60_000 });
    files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  });

  it('holds the gateway: its entry points and the example config', () => {
    for (const path of ['package.json', 'dist/src/cli.js', 'dist/src/app.js', 'dist/src/healthcheck.js', 'config/gateway.example.yaml']) {
      expect(files).toContain(path);
    }
  });

  it("holds no demo, test or bench file: the gateway's build output, its example config and the manifest only", () => {
    expect(files.filter((path) => /(^|\/)(demo|test|bench)(\/|$)|\.test\.|demo\.yaml/.test(path))).toEqual([]);
    const gatewayOnly = /^(package\.json|README\.md|LICENSE(\.\w+)?|config\/gateway\.example\.yaml|dist\/src\/.+)$/;
    expect(files.filter((path) => !gatewayOnly.test(path))).toEqual([]);
  });
});
