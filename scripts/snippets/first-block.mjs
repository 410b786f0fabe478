// The install check's README step: a package's first ```ts block, copied verbatim into a fresh npm
// project that installed only that package's tarball, the connection's and `redis`, must run and
// exit with 0 by itself, as it would for a reader who just ran `npm i @redis-patterns/<x> redis`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toJavaScript } from './compile.mjs';
import { FLAGS, fencedBlocks, PROGRAM_LANGUAGES } from './extract.mjs';
import { runProgram } from './run.mjs';

/** The first ```ts block of a README: `{ line, code }`, or an error saying why there is none to run. */
export function firstTsBlock(readmePath, label) {
  const block = fencedBlocks(readFileSync(readmePath, 'utf8')).find((b) => {
    const lang = b.info.split(/\s+/)[0]?.toLowerCase() ?? '';
    return PROGRAM_LANGUAGES[lang] === '.mts';
  });
  if (block === undefined) throw new Error(`${label} has no \`\`\`ts block`);
  const flags = block.info.split(/\s+/).filter((word) => FLAGS.includes(word));
  if (flags.length > 0)
    throw new Error(
      `${label}:${block.line}: the first \`\`\`ts block is marked "${flags.join(' ')}"; it is the ` +
        'copy-from example, so it must be a program that runs as written with only the package and redis',
    );
  return { line: block.line, code: block.code.join('\n') };
}

/**
 * Installs `tarballs` and redis@6.3.1 in `project` (a new folder, "type": "module"), writes the first
 * ```ts block of `readmePath` there, strips its types, and runs it with REDIS_URL on a flushed
 * `server`. Resolves with a one-line description; throws with the block's file:line on failure.
 */
export async function runFirstBlock({ project, readmePath, label, tarballs, server, install }) {
  const { line, code } = firstTsBlock(readmePath, label);
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'readme-consumer', private: true, type: 'module' }),
  );
  install(project, [...new Set(tarballs), 'redis@6.3.1']);
  const path = join(project, 'readme.mts');
  writeFileSync(path, `${code}\n`);
  await server.flushAll();
  const problem = await runProgram(toJavaScript({ path }), server.url);
  if (problem !== null) throw new Error(`${label}:${line} (first \`\`\`ts block, run verbatim): ${problem}`);
  return `${label}:${line} runs`;
}
