#!/usr/bin/env node
// The `redis-patterns` bin: process streams in, exit code out; Ctrl-C stops `status --watch`.
import { run } from './run.js';

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  // A second Ctrl-C while the first is closing connections quits at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: controller.signal,
});
