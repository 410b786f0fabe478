#!/usr/bin/env node
// The `redis-patterns` bin: process streams in, exit code out. Ctrl-C stops `status --watch` and
// `dashboard` (which close their connections and exit 0); any other command it ends at once with
// 130, so that an operator can stop a listing or a delete that matches more than meant.
import { run } from './run.js';

const argv = process.argv.slice(2);
const watching = argv.includes('--watch') || commandOf(argv) === 'dashboard';
const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  // A second Ctrl-C while the first is closing connections quits at once.
  if (interrupted || !watching) {
    process.stderr.write('interrupted\n');
    process.exit(130);
  }
  interrupted = true;
  controller.abort();
});

process.exitCode = await run(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: controller.signal,
});

/** The subcommand: the first argument that is neither a global option nor the value of one. */
function commandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (['--url', '--prefix', '--timeout'].includes(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}
