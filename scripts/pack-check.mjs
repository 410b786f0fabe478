#!/usr/bin/env node
// Proves "install just the pattern you need": packs every public package (into dist-tarballs/, as
// `pnpm pack:all` does), installs each tarball (with the connection tarball it depends on and `redis`)
// into a fresh project outside the workspace, runs its smoke script against a throwaway redis-server,
// and type-checks a consumer file. In another fresh project holding only the package's tarball, the
// connection's and `redis`, the first ```ts block of the package's README runs as written.
// It also holds the packages to what their READMEs say about being ESM only: from CommonJS, require()
// loads them exactly on Node versions that load ES modules synchronously, and TypeScript accepts a
// static import in a .cts file under --module nodenext but not node16, where `await import()` is the
// way; and the import smoke runs again on the lowest Node that `engines` claims.
//
// Usage: node scripts/pack-check.mjs [package-dir...]   (after a build; no dir: every public package)
// The packages are checked in LANES child processes at once (each its own redis-server and its
// packages one after another): the check is mostly npm installs and tsc runs, which overlap well.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { npmEnvironment, packAll, publicPackages } from './pack-all.mjs';
import { runFirstBlock } from './snippets/first-block.mjs';
import { startRedisServer } from './snippets/redis-server.mjs';

const root = resolve(import.meta.dirname, '..');
/** How many packages are checked at once. */
const LANES = 2;
// A lane is this script run by the parent with `--lane <old node> <tarballs as JSON> <dir...>`.
const lane =
  process.argv[2] === '--lane' ? { oldNode: process.argv[3], tarballs: JSON.parse(process.argv[4]) } : null;
const only = process.argv.slice(lane ? 5 : 2);

const npmEnv = npmEnvironment();
const run = (cmd, args, cwd, env = npmEnv) =>
  execFileSync(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
// The consumer's own TypeScript, run directly rather than through npx, which looks it up on every call.
const tsc = join('node_modules', 'typescript', 'bin', 'tsc');

const npmInstall = (project, deps) =>
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...deps], project);

/** The lower bound of `engines.node`, which every public package states alike, as `>=X.Y.Z`. */
function lowestNodeOf(manifests) {
  const ranges = [...new Set(manifests.map((manifest) => manifest.engines?.node))];
  const bound = ranges.length === 1 ? /^>=(\d+\.\d+\.\d+)$/.exec(ranges[0] ?? '') : null;
  if (!bound)
    throw new Error(
      `every public package must state the same engines.node, as ">=X.Y.Z"; found ${ranges.join(', ')}`,
    );
  return bound[1];
}

const staticImportsOf = (specifiers) =>
  specifiers.map((s, i) => `import * as entry${i} from '${s}';`).join('\n');

/**
 * Writes a consumer's files for TypeScript, importing `specifiers` (every entry of one package):
 * consumer.ts and two .cts importers (a static import, which TypeScript turns into require(), and
 * `await import()`), with a tsconfig for NodeNext and one for node16.
 */
function writeTypeChecks(project, specifiers) {
  const staticImports = staticImportsOf(specifiers);
  const sizes = specifiers.map((_, i) => `Object.keys(entry${i}).length`).join(' + ');
  const uses = `const exported: number = ${sizes};\nconsole.log(exported);\n`;
  writeFileSync(join(project, 'consumer.ts'), `${staticImports}\n${uses}`);
  writeFileSync(join(project, 'static.cts'), `${staticImports}\n${uses}`);
  const dynamicImports = specifiers.map((s, i) => `  const entry${i} = await import('${s}');`).join('\n');
  writeFileSync(
    join(project, 'dynamic.cts'),
    `async function load(): Promise<number> {\n${dynamicImports}\n  return ${sizes};\n}\nvoid load();\n`,
  );
  const compilerOptions = { target: 'ES2022', strict: true, noEmit: true, types: ['node'] };
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        ...compilerOptions,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: false,
      },
      files: ['consumer.ts', 'static.cts', 'dynamic.cts'],
    }),
  );
  // Libraries were checked by the NodeNext run; this one only asks how node16 treats the .cts files.
  writeFileSync(
    join(project, 'tsconfig.node16.json'),
    JSON.stringify({
      compilerOptions: {
        ...compilerOptions,
        module: 'Node16',
        moduleResolution: 'Node16',
        skipLibCheck: true,
        lib: ['ES2022'],
      },
      files: ['static.cts', 'dynamic.cts'],
    }),
  );
}

/**
 * Writes a consumer's files for Node, loading `specifiers` (every entry of package `name`):
 * entries.mjs imports them all and disposes of a connection, for the lowest Node (on the current
 * one, require.cjs loads every entry); require.cjs require()s them all.
 */
function writeRuntimeChecks(project, name, specifiers, { connects = true } = {}) {
  // The CLI package (@redis-patterns/ops) has no connect() of its own to dispose: it exports run().
  const connection = connects
    ? `const redis = await entry${specifiers.indexOf(name)}.connect({ url: process.env.REDIS_URL });
await redis.client.ping();
await redis[Symbol.asyncDispose]();
console.log('every entry imports; a connection disposes');`
    : "console.log('every entry imports');";
  writeFileSync(
    join(project, 'entries.mjs'),
    `${staticImportsOf(specifiers)}
const entries = { ${specifiers.map((s, i) => `'${s}': entry${i}`).join(', ')} };
const empty = Object.keys(entries).filter((specifier) => Object.keys(entries[specifier]).length === 0);
if (empty.length > 0) throw new Error(\`no exports from \${empty.join(', ')}\`);
// \`await using\` on the handles needs Symbol.asyncDispose (Node 20.4.0 on): without it their dispose
// method would sit under the key "undefined" and a user's \`await using\` would throw.
if (typeof Symbol.asyncDispose !== 'symbol') throw new Error(\`Node \${process.version} has no Symbol.asyncDispose\`);
${connection}
`,
  );
  writeFileSync(
    join(project, 'require.cjs'),
    `// Node versions that load ES modules synchronously must load every entry; older ones must refuse.
const loads = process.features.require_module === true;
for (const specifier of ${JSON.stringify(specifiers)}) {
  let entry;
  try {
    entry = require(specifier);
  } catch (err) {
    if (!loads && err.code === 'ERR_REQUIRE_ESM') continue;
    throw err;
  }
  if (!loads) throw new Error(\`require('\${specifier}') loaded on \${process.version}, which should refuse it\`);
  if (Object.keys(entry).length === 0) throw new Error(\`require('\${specifier}') gave no exports\`);
}
console.log(loads ? 'loads' : 'refused (ERR_REQUIRE_ESM)');
`,
  );
}

/** Type-checks the .cts files under node16: exactly one TS1479 per static import, and nothing else. */
function expectNode16Refusal(project, count) {
  let out = '';
  try {
    run('node', [tsc, '-p', 'tsconfig.node16.json'], project);
  } catch (err) {
    out = err.stdout?.toString() ?? '';
  }
  const errors = out.split('\n').filter((line) => /error TS\d+/.test(line));
  const refusals = errors.filter((line) => /^static\.cts\(\d+,\d+\): error TS1479:/.test(line));
  if (refusals.length !== count || errors.length !== count)
    throw new Error(
      `under --module node16, expected TS1479 on each of the ${count} static import(s) in static.cts ` +
        `(the packages are ESM only) and no other error; tsc said:\n${out || '(nothing)'}`,
    );
}

/** Installs and checks one package in fresh projects under `work`; false when it failed. */
async function checkPackage({ dir, manifest, tarballs, oldNode, lowest, work, server }) {
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
  const deps = ownTarballs(dir, manifest, tarballs);
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
  npmInstall(project, [...deps, 'redis@6.3.1', 'typescript@6.0.3', '@types/node@^20.19.0']);
  // Every entry of `exports` (subpaths too) must resolve with its types from a plain NodeNext project.
  const specifiers = Object.keys(manifest.exports)
    .filter((e) => e !== './package.json')
    .map((e) => `${manifest.name}${e.slice(1)}`);
  writeTypeChecks(project, specifiers);
  writeRuntimeChecks(project, manifest.name, specifiers, { connects: manifest.bin === undefined });
  try {
    run('node', [tsc, '-p', 'tsconfig.json'], project);
    expectNode16Refusal(project, specifiers.length);
    const env = { ...process.env, REDIS_URL: server.url };
    const out = run('node', [`${dir}.mjs`], project, env);
    const required = run('node', ['require.cjs'], project).trim();
    // Database 1: a smoke script may leave keys behind that would change its second run.
    const oldEnv = { ...process.env, REDIS_URL: `${server.url}/1` };
    run(oldNode, [`${dir}.mjs`], project, oldEnv);
    run(oldNode, ['entries.mjs'], project, oldEnv);
    const oldRequired = run(oldNode, ['require.cjs'], project).trim();
    const readme = await runFirstBlock({
      project: join(work, `readme-${dir}`),
      readmePath: join(root, 'packages', dir, 'README.md'),
      label: `packages/${dir}/README.md`,
      tarballs: ownTarballs(dir, manifest, tarballs),
      server,
      install: npmInstall,
    });
    console.log(
      `ok (types resolve; .cts: static import under nodenext, TS1479 under node16, import() under both; ` +
        `smoke: ${out.trim().split('\n').pop()}; require() on ${process.version}: ${required}; ` +
        `on v${lowest}: smoke ok, require() ${oldRequired}; README: ${readme} with only the tarballs and redis)`,
    );
  } catch (err) {
    console.log(`FAILED\n${err.stdout ?? ''}${err.message}`);
    return false;
  }
  return true;
}

/** The workspace packages `manifest` depends on, by folder (the ops CLI depends on every pattern). */
const workspaceDeps = (manifest) =>
  Object.keys(manifest.dependencies ?? {})
    .filter((name) => name.startsWith('@redis-patterns/'))
    .map((name) => name.slice('@redis-patterns/'.length));

/** What a package is installed from: the connection's tarball, its workspace dependencies', its own. */
const ownTarballs = (dir, manifest, tarballs) => [
  ...new Set([tarballs.connection, ...workspaceDeps(manifest).map((dep) => tarballs[dep]), tarballs[dir]]),
];

/** Checks `packages` one after another against a redis-server of its own; returns how many failed. */
async function checkPackages(packages, tarballs, oldNode, lowest) {
  const work = mkdtempSync(join(tmpdir(), 'redis-patterns-pack-'));
  const server = await startRedisServer();
  let failed = 0;
  try {
    for (const { dir, manifest } of packages) {
      failed += (await checkPackage({ dir, manifest, tarballs, oldNode, lowest, work, server })) ? 0 : 1;
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return failed;
}

/** Runs this script as a lane over `packages`; resolves with its exit code once its output is printed. */
function runLane(packages, oldNode, tarballs) {
  const args = ['--lane', oldNode, JSON.stringify(tarballs), ...packages.map(({ dir }) => dir)];
  const child = spawn(process.execPath, [import.meta.filename, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      // A lane's lines are printed together, so the two lanes' lines never interleave.
      process.stdout.write(output);
      resolve(code ?? 1);
    }),
  );
}

const packages = publicPackages(only);
const lowest = lowestNodeOf(packages.map(({ manifest }) => manifest));
if (lane) {
  process.exit((await checkPackages(packages, lane.tarballs, lane.oldNode, lowest)) === 0 ? 0 : 1);
}
// The `node` package on the npm registry carries Node's own binaries, so the lowest Node the
// packages claim is one download away wherever npm install works. Its path is asked once.
process.stdout.write(`Fetching Node ${lowest}, the lowest that engines.node claims... `);
const oldNode = run('npx', ['-y', `node@${lowest}`, '-p', 'process.execPath'], tmpdir()).trim();
console.log(oldNode);
const needed = new Set(['connection', ...packages.flatMap(({ manifest }) => workspaceDeps(manifest))]);
const withDependencies = publicPackages([...needed]).filter(
  ({ dir }) => !packages.some((p) => p.dir === dir),
);
const tarballs = packAll([...packages, ...withDependencies], { env: npmEnv });
const lanes = Array.from({ length: Math.min(LANES, packages.length) }, (_, i) =>
  packages.filter((_, j) => j % LANES === i),
);
const codes = await Promise.all(lanes.map((share) => runLane(share, oldNode, tarballs)));
const failedLanes = codes.filter((code) => code !== 0).length;
console.log(
  failedLanes === 0
    ? `\nAll ${packages.length} packages install and run alone.`
    : `\nA package failed in ${failedLanes} of ${lanes.length} lanes: see FAILED above.`,
);
process.exit(failedLanes === 0 ? 0 : 1);
