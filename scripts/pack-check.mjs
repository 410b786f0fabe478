#!/usr/bin/env node
// Proves "install just the pattern you need": packs every public package, installs each tarball
// (with the connection tarball it depends on and `redis`) into a fresh project outside the
// workspace, runs its smoke script against a throwaway redis-server, and type-checks a consumer file.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const only = process.argv.slice(2);
const work = mkdtempSync(join(tmpdir(), 'redis-patterns-pack-'));

// Under `pnpm run check:install` the environment carries pnpm's whole configuration as npm_config_*
// variables, and npm warns on every command about each key it does not know (`_jsr-registry`,
// `verify-deps-before-run`, `npm-globalconfig`...) and does nothing else with it. So the commands
// below run without exactly those keys, which changes nothing npm does. Kept: every key npm knows
// (its own list, asked with no npm_config_* set: registry, cafile, cache, userconfig, proxies...) and
// scoped or per-registry keys (`@scope:registry`, `//host/:_authToken`). Also dropped: global_prefix
// and local_prefix, which npm never reads and sets afresh for the scripts it runs. The pack step's
// pnpm reads its own settings again from the workspace's and the user's .npmrc.
const isNpmConfig = (name) => name.toLowerCase().startsWith('npm_config_');
const withoutNpmConfig = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !isNpmConfig(name)),
);
const npmKnows = new Set(
  Object.keys(JSON.parse(execFileSync('npm', ['config', 'ls', '-l', '--json'], { env: withoutNpmConfig }))),
);
/** The config key npm reads from an npm_config_* name: '_' becomes '-' except a leading one. */
const npmKey = (name) => {
  const key = name.slice('npm_config_'.length);
  return key.startsWith('//') ? key : (key.slice(0, 1) + key.slice(1).replaceAll('_', '-')).toLowerCase();
};
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => {
    if (!isNpmConfig(name)) return true;
    const key = npmKey(name);
    return npmKnows.has(key) || key.includes(':') || key.startsWith('//');
  }),
);
const run = (cmd, args, cwd, env = npmEnv) =>
  execFileSync(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir,
    manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter(({ manifest }) => !manifest.private)
  .filter(({ dir }) => only.length === 0 || only.includes(dir));

const port = await new Promise((ok) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => ok(port));
  });
});
const server = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work],
  { stdio: 'ignore' },
);
process.on('exit', () => server.kill('SIGKILL'));
await new Promise((r) => setTimeout(r, 300));

let failed = 0;
try {
  const tarballs = {};
  for (const { dir } of packages.concat(
    packages.some((p) => p.dir === 'connection') ? [] : [{ dir: 'connection' }],
  )) {
    const out = run(
      'npx',
      ['-y', 'pnpm@10.34.9', 'pack', '--pack-destination', work],
      join(root, 'packages', dir),
    );
    tarballs[dir] = out.trim().split('\n').pop().trim();
  }
  for (const { dir, manifest } of packages) {
    const project = join(work, `consumer-${dir}`);
    mkdirSync(project, { recursive: true });
    const smoke = join(root, 'scripts', 'pack-smoke', `${dir}.mjs`);
    if (!existsSync(smoke))
      throw new Error(`${manifest.name} has no smoke script: write scripts/pack-smoke/${dir}.mjs`);
    // What a user installs is the pattern and `redis`: under pnpm's strict layout the connection
    // package is not importable from their code, so a pattern's smoke script imports only the pattern.
    if (dir !== 'connection' && readFileSync(smoke, 'utf8').includes("from '@redis-patterns/connection'"))
      throw new Error(
        `scripts/pack-smoke/${dir}.mjs imports @redis-patterns/connection: import from ${manifest.name}`,
      );
    cpSync(smoke, join(project, `${dir}.mjs`));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: `consumer-${dir}`, private: true, type: 'module' }),
    );
    const deps = [...new Set([tarballs.connection, tarballs[dir]])];
    // Optional peers (express-session for the session store's ./express entry) and their types, as a
    // user of that entry would have them.
    const peers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => name !== 'redis');
    const typings = Object.keys(manifest.devDependencies ?? {}).filter((name) => name.startsWith('@types/'));
    deps.push(
      ...[...peers, ...typings].map(
        (name) => `${name}@${manifest.devDependencies?.[name] ?? manifest.peerDependencies[name]}`,
      ),
    );
    process.stdout.write(
      `• ${manifest.name}: installing ${deps.length} tarball(s) + redis in a fresh project... `,
    );
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...deps,
        'redis@6.3.1',
        'typescript@6.0.3',
        '@types/node@^20.19.0',
      ],
      project,
    );
    // Every entry of `exports` (subpaths too) must resolve with its types from a plain NodeNext project.
    const entries = Object.keys(manifest.exports).filter((e) => e !== './package.json');
    const imports = entries.map((e, i) => `import * as entry${i} from '${manifest.name}${e.slice(1)}';`);
    const uses = entries.map((_, i) => `Object.keys(entry${i}).length`).join(' + ');
    writeFileSync(
      join(project, 'consumer.ts'),
      `${imports.join('\n')}\nconst exported: number = ${uses};\nconsole.log(exported);\n`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    try {
      run('npx', ['tsc', '-p', 'tsconfig.json'], project);
      const out = run('node', [`${dir}.mjs`], project, {
        ...process.env,
        REDIS_URL: `redis://127.0.0.1:${port}`,
      });
      console.log(`ok (types resolve; smoke: ${out.trim().split('\n').pop()})`);
    } catch (err) {
      failed++;
      console.log(`FAILED\n${err.stdout ?? ''}${err.message}`);
    }
  }
} finally {
  server.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
console.log(
  failed === 0
    ? `\nAll ${packages.length} packages install and run alone.`
    : `\n${failed} package(s) failed.`,
);
process.exit(failed === 0 ? 0 : 1);
