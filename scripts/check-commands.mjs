#!/usr/bin/env node
// Each pattern sends its Redis traffic from one module, src/commands.ts (or a src/commands/ folder
// where one file would pass 300 lines): a reader who wants to know what a pattern asks of Redis
// reads that module, and follows a public method to its script through it.
//
//   node scripts/check-commands.mjs    (from the repo root; exits 1 and lists the offending lines)
//
// It flags, outside that module, calls of the connection's sending methods, node-redis command
// methods a pattern uses, and batchers created over a connection. Strings and comments are not
// parsed out: a line that only mentions such a call in a comment needs rewording.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const patterns = ['cache-aside', 'leaderboard', 'lock', 'queue', 'rate-limit', 'session'];
const sending =
  /\.(send|runScript|multi|isolated|dedicated|scan|sendCommand|subscribe|sSubscribe|unsubscribe|sUnsubscribe|publish|watch|exec|execAsPipeline|ping)\s*(<[^()]*>)?\s*\(|new\s+(ScriptBatcher|TickBatcher)\b/;

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'lua' && name !== 'commands') yield* sources(path);
    } else if (name.endsWith('.ts') && !name.endsWith('.generated.ts') && name !== 'commands.ts') yield path;
  }
}

const offences = [];
for (const pattern of patterns) {
  for (const file of sources(join(root, 'packages', pattern, 'src'))) {
    for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
      const trimmed = line.trim();
      if (trimmed.startsWith('//') || trimmed.startsWith('*')) continue;
      // Not Redis: a framework reply, a regular expression.
      if (/\breply\.send\(|\/\.exec\(/.test(line)) continue;
      if (sending.test(line)) offences.push(`${relative(root, file)}:${i + 1}: ${trimmed}`);
    }
  }
}
if (offences.length > 0) {
  console.error('Redis traffic outside the commands module (src/commands.ts or src/commands/):');
  for (const offence of offences) console.error(`  ${offence}`);
  process.exit(1);
}
console.log(
  `commands: every pattern sends its Redis traffic from src/commands (${patterns.length} packages)`,
);
