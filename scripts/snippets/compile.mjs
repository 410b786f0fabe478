// Writes the snippets as module files where Node resolves the packages a reader installs, type-checks
// them all in one TypeScript program, and turns the runnable ones into plain JavaScript.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import ts from 'typescript';

/** What a reader's project is assumed to be: an ES module under nodenext, strict. */
export const compilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  esModuleInterop: true,
  allowJs: true,
  checkJs: true,
  noEmit: true,
  types: ['node'],
};

/**
 * Makes the folders the snippets are written to, in a fresh temporary folder each so that runs do
 * not collide: `main` under the root's node_modules (which sees every workspace package, through
 * the root's devDependencies, and `redis`), `peer` under bench/node_modules (the peer libraries
 * bench/package.json installs; anything bench lacks is still looked up in the root's).
 */
export function makeFolders(root) {
  const under = (dir) => {
    const cache = join(dir, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    return mkdtempSync(join(cache, 'check-snippets-'));
  };
  return { main: under(root), peer: under(join(root, 'bench')) };
}

/** A file name for a snippet that says where it comes from: packages-lock-README.md-L23.mts */
const fileNameOf = (snippet) =>
  `${snippet.file.replace(/[^A-Za-z0-9.-]+/g, '-')}-L${String(snippet.line).padStart(4, '0')}${snippet.ext}`;

/**
 * Writes each snippet to `snippet.path` and records `snippet.lines`, the Markdown line of each of
 * its lines (a `continues` snippet is its blocks one after the other).
 */
export function writeSnippets(snippets, folders) {
  for (const snippet of snippets) {
    const text = [];
    snippet.lines = [];
    for (const part of snippet.parts) {
      part.code.forEach((line, i) => {
        text.push(line);
        snippet.lines.push(part.line + 1 + i);
      });
    }
    snippet.path = join(snippet.mode === 'peer' ? folders.peer : folders.main, fileNameOf(snippet));
    writeFileSync(snippet.path, `${text.join('\n')}\n`);
  }
}

const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => '', getNewLine: () => '\n' };

/**
 * Type-checks every snippet in one program. Returns the problems as `file:line: TSxxxx: message`,
 * each snippet with errors once per error, and marks those snippets `failed`.
 */
export function typeCheck(snippets, root) {
  const options = { ...compilerOptions, typeRoots: [join(root, 'node_modules', '@types')] };
  const program = ts.createProgram({ rootNames: snippets.map((s) => s.path), options });
  const byPath = new Map(snippets.map((s) => [s.path, s]));
  const problems = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
    const snippet = diagnostic.file && byPath.get(diagnostic.file.fileName);
    if (!snippet) {
      problems.push(ts.formatDiagnostic(diagnostic, formatHost).trimEnd());
      continue;
    }
    snippet.failed = true;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const where = `${snippet.file}:${snippet.lines[line] ?? snippet.line}`;
    const chain =
      snippet.parts.length > 1 ? ` (in the block at line ${snippet.line}, which continues others)` : '';
    problems.push(`${where}: TS${diagnostic.code}: ${message}${chain}`);
  }
  return problems;
}

/**
 * Turns a runnable TypeScript snippet into JavaScript next to it and returns the file to run with
 * node (a JavaScript snippet runs as written).
 */
export function toJavaScript(snippet) {
  if (!snippet.path.endsWith('.mts')) return snippet.path;
  const { outputText } = ts.transpileModule(ts.sys.readFile(snippet.path) ?? '', {
    fileName: basename(snippet.path),
    compilerOptions: { ...compilerOptions, noEmit: false, allowJs: false, checkJs: false },
  });
  const out = snippet.path.replace(/\.mts$/, '.mjs');
  writeFileSync(out, outputText);
  return out;
}
