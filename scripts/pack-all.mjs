#!/usr/bin/env node
// `pnpm pack:all`: packs every public package into dist-tarballs/ at the root, as `pnpm pack` does
// for publishing (workspace:^ versions rewritten to the real ones), so they can be installed with
// npm before they are published. scripts/pack-check.mjs installs the same tarballs.
//
// Usage: node scripts/pack-all.mjs [package-dir...]   (after a build; `pnpm pack:all` builds first)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
/** Where the tarballs go. */
export const TARBALL_DIR = join(root, 'dist-tarballs');

/** The public packages (`{ dir, manifest }`), all of them or those whose folder is in `only`. */
export function publicPackages(only = []) {
  return readdirSync(join(root, 'packages'))
    .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
    }))
    .filter(({ manifest }) => !manifest.private)
    .filter(({ dir }) => only.length === 0 || only.includes(dir));
}

/**
 * process.env without the npm_config_* keys npm does not know. Under `pnpm run` the environment
 * carries pnpm's whole configuration as npm_config_* variables, and npm warns on every command
 * about each key it does not know (`_jsr-registry`, `verify-deps-before-run`, `npm-globalconfig`...)
 * and does nothing else with it, so npm and npx run without exactly those keys, which changes
 * nothing npm does. Kept: every key npm knows (its own list, asked with no npm_config_* set:
 * registry, cafile, cache, userconfig, proxies...) and scoped or per-registry keys
 * (`@scope:registry`, `//host/:_authToken`). Also dropped: global_prefix and local_prefix, which npm
 * never reads and sets afresh for the scripts it runs. The pack step's pnpm reads its own settings
 * again from the workspace's and the user's .npmrc.
 */
export function npmEnvironment() {
  const isNpmConfig = (name) => name.toLowerCase().startsWith('npm_config_');
  const withoutNpmConfig = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !isNpmConfig(name)),
  );
  const listed = execFileSync('npm', ['config', 'ls', '-l', '--json'], { env: withoutNpmConfig });
  const npmKnows = new Set(Object.keys(JSON.parse(listed.toString())));
  /** The config key npm reads from an npm_config_* name: '_' becomes '-' except a leading one. */
  const npmKey = (name) => {
    const key = name.slice('npm_config_'.length);
    return key.startsWith('//') ? key : (key.slice(0, 1) + key.slice(1).replaceAll('_', '-')).toLowerCase();
  };
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => {
      if (!isNpmConfig(name)) return true;
      const key = npmKey(name);
      return npmKnows.has(key) || key.includes(':') || key.startsWith('//');
    }),
  );
}

/** The file name `pnpm pack` gives a package: @redis-patterns/lock 0.1.0 → redis-patterns-lock-0.1.0.tgz */
const tarballName = ({ name, version }) => `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;

/**
 * Packs the given packages (default: every public one) into TARBALL_DIR with one `pnpm pack`,
 * replacing older tarballs of the same packages. Returns the tarball path of each, by folder name.
 */
export function packAll(packages = publicPackages(), { env = npmEnvironment() } = {}) {
  const unbuilt = packages.filter(({ dir }) => !existsSync(join(root, 'packages', dir, 'dist')));
  if (unbuilt.length > 0)
    throw new Error(
      `not built: ${unbuilt.map(({ dir }) => dir).join(', ')}; run \`npx -y pnpm@10.34.9 run build\` first`,
    );
  mkdirSync(TARBALL_DIR, { recursive: true });
  for (const { manifest } of packages) {
    const stem = tarballName({ name: manifest.name, version: '' }).slice(0, -'.tgz'.length);
    const older = (file) => file.startsWith(stem) && /^\d.*\.tgz$/.test(file.slice(stem.length));
    for (const file of readdirSync(TARBALL_DIR).filter(older)) rmSync(join(TARBALL_DIR, file));
  }
  const filters = packages.flatMap(({ manifest }) => ['--filter', manifest.name]);
  execFileSync(
    'npx',
    ['-y', 'pnpm@10.34.9', '--recursive', ...filters, 'pack', '--pack-destination', TARBALL_DIR],
    { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const tarballs = {};
  for (const { dir, manifest } of packages) {
    const path = join(TARBALL_DIR, tarballName(manifest));
    if (!existsSync(path)) throw new Error(`pnpm pack did not write ${relative(root, path)}`);
    tarballs[dir] = path;
  }
  return tarballs;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const tarballs = packAll(publicPackages(process.argv.slice(2)));
  const list = Object.values(tarballs).map((path) => `  ${relative(root, path)}`);
  console.log(`Packed ${list.length} package(s):\n${list.join('\n')}`);
  if (tarballs.connection && tarballs.lock)
    console.log(`In your project, e.g.: npm i ${tarballs.connection} ${tarballs.lock} redis`);
}
