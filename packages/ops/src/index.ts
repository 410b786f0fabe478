// The CLI as a function, for tests and for tools that embed it; the `redis-patterns` bin wraps it.
export type { OutputStream, RunIO } from './context.js';
export { run } from './run.js';
