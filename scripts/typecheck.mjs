#!/usr/bin/env node
// Type-checks every workspace (packages/*, examples/*, bench) and the root scripts, in a few tsc
// programs instead of one per workspace (`pnpm run typecheck`; the packages must be built, as
// their dependents read each other's dist types).
//
// Each tsc run spends most of its time on what every workspace shares (node-redis's and Node's
// types), so one program for all of them takes about what one workspace takes alone, where 17 runs
// took 90 s on two cores. Workspaces that declare their own session data (a module augmentation of
// 'express-session' or 'fastify', each with its own shape) would conflict in one program, so
// each of those is a program of its own, as is any workspace whose compiler options differ.
// A workspace's own `pnpm typecheck` still checks it alone.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'node_modules', '.cache', 'typecheck');

/** Workspaces checked on their own: each augments 'express-session' or 'fastify' with its session's shape. */
const ALONE = new Set(['packages/session', 'examples/express-app', 'examples/session', 'bench']);

/** Every workspace with a tsconfig.json, as { dir (relative to the root), config }. */
function workspaces() {
  const dirs = ['packages', 'examples'].flatMap((parent) =>
    readdirSync(join(root, parent)).map((name) => `${parent}/${name}`),
  );
  dirs.push('bench');
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'tsconfig.json')))
    .map((dir) => ({ dir, config: JSON.parse(readFileSync(join(root, dir, 'tsconfig.json'), 'utf8')) }));
}

/** The programs: the shared one (workspaces with the usual options), then one per workspace apart. */
function programs() {
  const all = workspaces();
  const usual = JSON.stringify(all.find((w) => w.dir === 'packages/connection')?.config.compilerOptions);
  const shared = [];
  const apart = [];
  for (const w of all) {
    if (!ALONE.has(w.dir) && JSON.stringify(w.config.compilerOptions) === usual) shared.push(w);
    else apart.push([w]);
  }
  return [shared, ...apart].filter((group) => group.length > 0);
}

/** Writes the tsconfig of one program (under node_modules/.cache) and returns its path. */
function writeConfig(group, index) {
  mkdirSync(OUT, { recursive: true });
  const rel = (path) => relative(OUT, join(root, path)).split('\\').join('/');
  const config = {
    extends: rel('tsconfig.base.json'),
    compilerOptions: group[0].config.compilerOptions,
    include: group.flatMap(({ dir, config: c }) => c.include.map((pattern) => rel(join(dir, pattern)))),
  };
  const file = join(OUT, `program-${index}.json`);
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

const jobs = programs().map((group, i) => ({
  project: writeConfig(group, i),
  label: group.map((w) => w.dir).join(', '),
}));
jobs.push({ project: join(root, 'tsconfig.json'), label: 'root scripts (tsconfig.json)' });

// Two at a time: a tsc run is one busy thread.
let failed = 0;
const queue = [...jobs];
await Promise.all(
  [0, 1].map(async () => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      if ((await tsc(job.project, job.label)) !== 0) failed += 1;
    }
  }),
);
if (failed > 0) {
  console.error(`typecheck: ${failed} of ${jobs.length} programs failed`);
  process.exit(1);
}
console.log(`typecheck: ${jobs.length} programs clean`);
