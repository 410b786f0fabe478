import { connect } from '@redis-patterns/connection';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { type BenchContext, defineScenario, NODE_REDIS_TIMEOUT_SETTLE_MS, type Runner } from '../scenario.ts';

const key = 'bench:get';

/** node-redis with the given options; the two peers differ only in the per-command timeout. */
async function nodeRedis(options: Parameters<typeof createClient>[0]): Promise<Runner> {
  const client = createClient(options);
  client.on('error', (error) => console.error('node-redis:', error));
  await client.connect();
  return { op: () => client.get(key), close: () => client.close() };
}

export default defineScenario({
  name: 'get',
  description: 'GET of one existing 100-byte key.',
  inflight: [1, 50],
  async setup({ url }: BenchContext) {
    const client = await createClient({ url }).connect();
    await client.set(key, 'x'.repeat(100));
    await client.close();
  },
  rows: [
    // node-redis 6 arms an AbortSignal.timeout (5 s) per command by default: the cost connection removes.
    {
      name: 'node-redis (defaults)',
      peer: true,
      settleMs: NODE_REDIS_TIMEOUT_SETTLE_MS,
      make: ({ url }) => nodeRedis({ url }),
    },
    {
      name: 'node-redis (timeout off)',
      peer: true,
      make: ({ url }) => nodeRedis({ url, commandOptions: { timeout: 0 } }),
    },
    {
      name: 'ioredis',
      peer: true,
      async make({ url }) {
        const redis = new Redis(url);
        redis.on('error', (error) => console.error('ioredis:', error));
        await redis.ping(); // ioredis queues until ready; wait here so the warmup measures GETs only.
        return { op: () => redis.get(key), close: async () => void (await redis.quit()) };
      },
    },
    {
      // What any per-call bound costs at least: a promise a timer could reject, registered while
      // the command is out. No sweep runs (it would cost per tick, not per op).
      name: 'ceiling: node-redis (timeout off) + a bare per-call bound',
      peer: false,
      async make({ url }) {
        const client = createClient({ url, commandOptions: { timeout: 0 } });
        client.on('error', (error) => console.error('node-redis:', error));
        await client.connect();
        const waiting = new Set<(err: Error) => void>();
        const op = () =>
          new Promise<string | null>((resolve, reject) => {
            waiting.add(reject);
            client.get(key).then(
              (value) => {
                waiting.delete(reject);
                resolve(value);
              },
              (err: unknown) => {
                waiting.delete(reject);
                reject(err);
              },
            );
          });
        return { op, close: () => client.close() };
      },
    },
    {
      name: 'connection (send)',
      peer: false,
      async make({ url }) {
        const conn = await connect({ url });
        return { op: () => conn.send(['GET', key], { key }), close: () => conn.close() };
      },
    },
    {
      // The typed node-redis method with the sweep-timer bound: what most call sites will use.
      name: 'connection (bounded typed)',
      peer: false,
      async make({ url }) {
        const conn = await connect({ url });
        return { op: () => conn.bounded(conn.client.get(key)), close: () => conn.close() };
      },
    },
  ],
});
