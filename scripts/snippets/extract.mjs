// Finds the Markdown files whose code blocks are checked, reads their fenced blocks, and turns them
// into programs by the info-string convention (see scripts/check-snippets.mjs for the convention).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Fence languages that hold a program; the value is the file extension it is checked under. */
export const PROGRAM_LANGUAGES = { ts: '.mts', typescript: '.mts', js: '.mjs', mjs: '.mjs' };
/** The words allowed after a program language, e.g. ```ts continues types-only. */
export const FLAGS = ['types-only', 'peer', 'continues', 'ignore'];
const IGNORE_REASON = /^\s*<!--\s*snippet-ignore:\s*(\S.*?)\s*-->\s*$/;

/** Every file under dir (recursively, skipping node_modules and dot folders) for which keep(name) holds. */
function walk(dir, keep) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path, keep);
    return keep(entry.name) ? [path] : [];
  });
}

/**
 * The checked Markdown files, relative to root: README.md, packages/*\/README.md,
 * examples/**\/README.md, bench/README.md and docs/**\/*.md.
 */
export function markdownFiles(root) {
  const packages = join(root, 'packages');
  const files = [
    join(root, 'README.md'),
    ...readdirSync(packages).map((dir) => join(packages, dir, 'README.md')),
    ...walk(join(root, 'examples'), (name) => name === 'README.md'),
    join(root, 'bench', 'README.md'),
    ...walk(join(root, 'docs'), (name) => name.endsWith('.md')),
  ];
  return [...new Set(files.filter((file) => existsSync(file)).map((file) => relative(root, file)))].sort();
}

/**
 * The fenced code blocks of a Markdown text: `line` is the 1-based line of the opening fence,
 * `info` its info string, `code` the lines between the fences (indentation of the fence removed),
 * `before` the line just above the fence.
 */
export function fencedBlocks(text) {
  const lines = text.split(/\r?\n/);
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const code = [];
    let j = i + 1;
    // A closing fence: the same character, at least as many, and nothing else on the line.
    const closes = (line) => {
      const trimmed = line.trim();
      return trimmed.length >= fence.length && trimmed === fence[0].repeat(trimmed.length);
    };
    while (j < lines.length && !closes(lines[j])) {
      const line = lines[j];
      code.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
      j++;
    }
    blocks.push({ line: i + 1, info: info.trim(), code, before: i > 0 ? lines[i - 1] : '' });
    i = j;
  }
  return blocks;
}

/**
 * The checked snippets of one Markdown file, and the problems with its info strings.
 * A snippet is `{ file, line, ext, mode: 'run' | 'types' | 'peer', parts }`, where parts are the
 * blocks it concatenates (`{ line, code }`, the first code line being line + 1).
 */
export function snippetsOf(file, text) {
  const snippets = [];
  const problems = [];
  let ignored = 0;
  let previous; // the last checked program block of this file, which a `continues` block extends
  for (const block of fencedBlocks(text)) {
    const [lang = '', ...words] = block.info.split(/\s+/).filter(Boolean);
    const ext = PROGRAM_LANGUAGES[lang.toLowerCase()];
    if (ext === undefined) continue;
    const at = `${file}:${block.line}`;
    const unknown = words.filter((word) => !FLAGS.includes(word));
    if (unknown.length > 0) {
      problems.push(
        `${at}: unknown word(s) "${unknown.join(' ')}" after \`\`\`${lang} (known: ${FLAGS.join(', ')})`,
      );
      continue;
    }
    if (words.includes('ignore')) {
      if (!IGNORE_REASON.test(block.before))
        problems.push(
          `${at}: \`\`\`${lang} ignore needs its reason on the line just above the fence: <!-- snippet-ignore: why -->`,
        );
      ignored++;
      continue;
    }
    const own = { line: block.line, code: block.code };
    let snippet;
    if (words.includes('continues')) {
      if (previous === undefined) {
        problems.push(
          `${at}: \`\`\`${lang} continues, but no checked ts/js block comes before it in this file`,
        );
        continue;
      }
      if (previous.ext !== ext) {
        problems.push(`${at}: continues a ${previous.ext} block with a ${ext} one; use one language`);
        continue;
      }
      // Run only if the block it continues runs; `types-only` or `peer` on the continuation narrows it.
      let mode = previous.mode;
      if (words.includes('peer')) mode = 'peer';
      else if (words.includes('types-only') && mode === 'run') mode = 'types';
      snippet = { file, line: block.line, ext, mode, parts: [...previous.parts, own] };
    } else {
      const mode = words.includes('peer') ? 'peer' : words.includes('types-only') ? 'types' : 'run';
      snippet = { file, line: block.line, ext, mode, parts: [own] };
    }
    snippets.push(snippet);
    previous = snippet;
  }
  return { snippets, problems, ignored };
}

/** The snippets and problems of the given Markdown files (paths relative to root). */
export function collectSnippets(root, files) {
  const result = { snippets: [], problems: [], ignored: 0 };
  for (const file of files) {
    const { snippets, problems, ignored } = snippetsOf(file, readFileSync(join(root, file), 'utf8'));
    result.snippets.push(...snippets);
    result.problems.push(...problems);
    result.ignored += ignored;
  }
  return result;
}
