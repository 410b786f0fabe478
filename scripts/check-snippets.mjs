#!/usr/bin/env node
// Keeps the code in the Markdown honest: extracts every fenced block of README.md,
// packages/*/README.md, examples/**/README.md, bench/README.md and docs/**/*.md, type-checks the
// programs in one TypeScript program (module and moduleResolution nodenext, strict, as ES modules),
// and runs the runnable ones with node against a throwaway redis-server (REDIS_URL), each of which
// must exit with code 0 by itself within 20 s.
//
// The fence's info string says what a block is:
//   ```ts  ```typescript  ```js  ```mjs   a program: type-checked, then run
//   ```ts types-only                     type-checked, not run (a server that listens forever)
//   ```ts peer                           a peer library's code (bullmq, ioredis...): type-checked with
//                                        bench/'s dependencies in reach, never run
//   ```ts continues                      the previous checked ts block(s) of the file followed by this
//                                        one, checked as one program, run if the block it continues runs
//                                        (`continues types-only` checks without running)
//   ```ts ignore                         not checked; needs `<!-- snippet-ignore: why -->` on the line
//                                        just above the fence
//   any other language (sh, json, text...) is not checked.
//
// Usage: node scripts/check-snippets.mjs [file.md...]   (no file: every file above)
import { existsSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { publicPackages } from './pack-all.mjs';
import { makeFolders, toJavaScript, typeCheck, writeSnippets } from './snippets/compile.mjs';
import { collectSnippets, markdownFiles } from './snippets/extract.mjs';
import { runAll } from './snippets/run.mjs';

const root = resolve(import.meta.dirname, '..');
const started = Date.now();

const given = process.argv.slice(2).map((file) => relative(root, isAbsolute(file) ? file : resolve(file)));
const missing = given.filter((file) => !existsSync(join(root, file)));
if (missing.length > 0) {
  console.error(`No such file: ${missing.join(', ')}`);
  process.exit(2);
}
// The snippets import the packages as a reader does, from their built dist/.
const unbuilt = publicPackages().filter(
  ({ dir }) => !existsSync(join(root, 'packages', dir, 'dist', 'index.js')),
);
if (unbuilt.length > 0) {
  const names = unbuilt.map(({ manifest }) => manifest.name).join(', ');
  console.error(`Not built: ${names}. Run \`npx -y pnpm@10.34.9 run build\` first.`);
  process.exit(2);
}

const files = given.length > 0 ? given : markdownFiles(root);
const { snippets, problems, ignored } = collectSnippets(root, files);
const folders = makeFolders(root);
let ran = 0;
try {
  writeSnippets(snippets, folders);
  process.stdout.write(`Type-checking ${snippets.length} snippet(s) from ${files.length} file(s)... `);
  const typeProblems = typeCheck(snippets, root);
  console.log(typeProblems.length === 0 ? 'ok' : `${typeProblems.length} error(s)`);
  problems.push(...typeProblems);

  // A snippet that does not compile is reported as such, not run.
  const jobs = snippets
    .filter((s) => s.mode === 'run' && !s.failed)
    .map((s) => ({ label: `${s.file}:${s.line}`, file: toJavaScript(s) }));
  ran = jobs.length;
  if (jobs.length > 0) console.log(`Running ${jobs.length} snippet(s) against a throwaway redis-server...`);
  const runProblems = await runAll(jobs, {
    parallel: 2,
    onDone: (job, problem) => console.log(`  ${problem === null ? 'ok  ' : 'FAIL'} ${job.label}`),
  });
  problems.push(...runProblems);
} finally {
  rmSync(folders.main, { recursive: true, force: true });
  rmSync(folders.peer, { recursive: true, force: true });
}

if (problems.length > 0) console.error(`\n${problems.join('\n\n')}\n`);
const peer = snippets.filter((s) => s.mode === 'peer').length;
console.log(
  `${problems.length === 0 ? 'Snippets ok' : `Snippets FAILED (${problems.length} problem(s))`}: ` +
    `${snippets.length - peer} type-checked, ${ran} run, ${peer} peer, ${ignored} ignored ` +
    `(${files.length} file(s), ${((Date.now() - started) / 1000).toFixed(1)} s)`,
);
process.exit(problems.length === 0 ? 0 : 1);
