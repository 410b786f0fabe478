// The CLI as a function, for tests and for tools that embed it; the `redis-patterns` bin wraps it.
export type { OutputStream, RunIO } from './context.js';
export { type DashboardOptions, type DashboardPrefixes, LOOPBACK_HOSTS } from './dashboard/options.js';
export type {
  Dashboard,
  DashboardHandler,
} from './dashboard/server.js';
export { createDashboard } from './dashboard/server.js';
export { run } from './run.js';
