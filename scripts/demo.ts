/**
 * The cookbook demo: one short scenario per pattern against a real Redis, in plain words.
 *   pnpm demo [--pattern NAME] [--cluster]
 * Uses REDIS_URL when set; otherwise starts a throwaway redis-server (a 3-master Cluster with
 * --cluster) and stops it afterwards. Exits non-zero if any scenario's outcome is wrong.
 */
import { parseArgs } from 'node:util';
import { connect } from '@redis-patterns/connection';
import { startCluster, startRedis } from '@redis-patterns/testing';
import { cacheAsideTour } from './demo/cache-aside.ts';
import { connectionTour } from './demo/connection.ts';
import { leaderboardDemo } from './demo/leaderboard.ts';
import { lockDemo } from './demo/lock.ts';
import { operateTour } from './demo/operate.ts';
import { queueTour } from './demo/queue.ts';
import { rateLimitTour } from './demo/rate-limit.ts';
import type { DemoScenario } from './demo/scenario.ts';
import { sessionTour } from './demo/session.ts';

const scenarios: DemoScenario[] = [
  connectionTour,
  cacheAsideTour,
  sessionTour,
  lockDemo,
  rateLimitTour,
  queueTour,
  leaderboardDemo,
  operateTour,
];

const { values } = parseArgs({
  options: { pattern: { type: 'string' }, cluster: { type: 'boolean', default: false } },
});
const selected =
  values.pattern === undefined ? scenarios : scenarios.filter((s) => s.name === values.pattern);
if (selected.length === 0) {
  console.error(
    `Unknown pattern "${values.pattern}". Choose one of: ${scenarios.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}

const started = performance.now();
let stopServer = async () => {};
let url = process.env.REDIS_URL;
if (url !== undefined && url !== '') {
  console.log(`Using REDIS_URL (${url.includes('cluster=true') ? 'Cluster' : 'standalone'}).`);
} else if (values.cluster) {
  console.log('Starting a throwaway 3-master Redis Cluster from the redis-server binary...');
  const cluster = await startCluster({ masters: 3 });
  url = `redis://${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}?cluster=true`;
  stopServer = () => cluster.stop();
} else {
  console.log('Starting a throwaway redis-server on a free port...');
  const server = await startRedis({ forceBinary: true });
  url = server.url;
  stopServer = () => server.stop();
}

let failed = 0;
const redis = await connect({ url });
try {
  for (const scenario of selected) {
    console.log(`\n## ${scenario.title}`);
    try {
      await scenario.run({ redis, url, log: (line) => console.log(`  ${line}`) });
      console.log(`  ✔ ${scenario.name}: outcome as expected`);
    } catch (err) {
      failed++;
      console.log(`  ✘ ${scenario.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
} finally {
  await redis.close();
  await stopServer();
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\n${selected.length - failed} of ${selected.length} scenarios as expected, in ${seconds} s.`);
process.exit(failed === 0 ? 0 : 1);
