import { connect } from '@redis-patterns/lock';
import { runNightlyReport } from './job.ts';

// Each instance of the service runs this at the same time (cron, a timer, a Kubernetes CronJob
// without concurrencyPolicy): exactly one builds the report.
const redis = await connect(); // REDIS_URL, else redis://127.0.0.1:6379
const reports = new Map<string, { body: string; fence: number }>(); // stands in for a database row
const day = new Date().toISOString().slice(0, 10);
const outcome = await runNightlyReport(
  redis,
  {
    async write(d, body, fencingToken) {
      // In SQL: UPDATE reports SET body = $1, fence = $2 WHERE day = $3 AND fence < $2
      const row = reports.get(d);
      if (row !== undefined && row.fence >= fencingToken) return false;
      reports.set(d, { body, fence: fencingToken });
      return true;
    },
  },
  day,
  async () => `report for ${day}`,
);
console.log(`instance ${process.pid}: ${outcome}`);
await redis.close();
