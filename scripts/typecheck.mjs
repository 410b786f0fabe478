#!/usr/bin/env node
// Type-checks every workspace (packages/*, examples/*, bench) and the root scripts, in a few tsc
// programs instead of one per workspace (`pnpm run typecheck`; the packages must be built, as
// their dependents read each other's dist types).
//
// Each tsc run spends most of its time on what every workspace shares (node-redis's and Node's
// types), so one program for all of them takes about what one workspace takes alone, where 17 runs
// took 90 s on two cores. Workspaces that declare their own session data (a module augmentation of
// 'express-session' or 'fastify', each with its own shape) would conflict in one program, so
// each of those is checked with its own tsconfig, as is any workspace whose tsconfig is more than
// the base, the usual options and what it includes. A workspace's own `pnpm typecheck` still
// checks it alone.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'node_modules', '.cache', 'typecheck');

/** Workspaces checked on their own: each augments 'express-session' or 'fastify' with its session's shape. */
const ALONE = new Set(['packages/session', 'examples/express-app', 'examples/session', 'bench']);

/** Every workspace with a tsconfig.json: { dir (relative to the root), config (undefined if not plain JSON) }. */
function workspaces() {
  const dirs = ['packages', 'examples'].flatMap((parent) =>
    readdirSync(join(root, parent)).map((name) => `${parent}/${name}`),
  );
  dirs.push('bench');
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'tsconfig.json')))
    .map((dir) => {
      try {
        return { dir, config: JSON.parse(readFileSync(join(root, dir, 'tsconfig.json'), 'utf8')) };
      } catch {
        return { dir, config: undefined };
      }
    });
}

/**
 * Whether a workspace can join the shared program: its tsconfig is only the base, the usual
 * options and what it includes, so the shared program checks exactly what its own would.
 */
function sharable(w, usual) {
  if (ALONE.has(w.dir) || w.config === undefined) return false;
  const { extends: base, compilerOptions, include, ...rest } = w.config;
  const baseFile = base === undefined ? undefined : relative(root, resolve(root, w.dir, base));
  return (
    Object.keys(rest).length === 0 &&
    baseFile === 'tsconfig.base.json' &&
    JSON.stringify(compilerOptions) === usual &&
    Array.isArray(include)
  );
}

/** The jobs: the shared program (a tsconfig written here), then each other workspace's own tsconfig. */
function jobs() {
  const all = workspaces();
  const usual = JSON.stringify(all.find((w) => w.dir === 'packages/connection')?.config?.compilerOptions);
  const shared = all.filter((w) => sharable(w, usual));
  const list = [];
  if (shared.length > 0) {
    list.push({ project: writeConfig(shared), label: shared.map((w) => w.dir).join(', ') });
  }
  for (const w of all) {
    if (!shared.includes(w)) list.push({ project: join(root, w.dir, 'tsconfig.json'), label: w.dir });
  }
  list.push({ project: join(root, 'tsconfig.json'), label: 'root scripts (tsconfig.json)' });
  return list;
}

/** Writes the shared program's tsconfig (under node_modules/.cache) and returns its path. */
function writeConfig(group) {
  mkdirSync(OUT, { recursive: true });
  const rel = (path) => relative(OUT, join(root, path)).split('\\').join('/');
  const config = {
    extends: rel('tsconfig.base.json'),
    compilerOptions: group[0].config.compilerOptions,
    include: group.flatMap(({ dir, config: c }) => c.include.map((pattern) => rel(join(dir, pattern)))),
  };
  const file = join(OUT, 'shared.json');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Runs tsc on `project`; resolves with its exit code once its output is printed. */
function tsc(project, label) {
  const bin = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawn(process.execPath, [bin, '-p', project, '--pretty', 'false'], { cwd: root });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolvePromise) =>
    child.on('close', (code) => {
      console.log(`${code === 0 ? 'ok' : 'FAILED'}: ${label}`);
      if (output) process.stdout.write(output);
      resolvePromise(code ?? 1);
    }),
  );
}

const list = jobs();

// Two at a time: a tsc run is one busy thread.
let failed = 0;
const queue = [...list];
await Promise.all(
  [0, 1].map(async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      if ((await tsc(job.project, job.label)) !== 0) failed += 1;
    }
  }),
);
if (failed > 0) {
  console.error(`typecheck: ${failed} of ${list.length} programs failed`);
  process.exit(1);
}
console.log(`typecheck: ${list.length} programs clean`);
