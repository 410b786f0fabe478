import { createKeyspace, defineScript, isWatchError } from '@redis-patterns/connection';
import { type DemoScenario, expectThat } from './scenario.ts';

const transferScript = defineScript(
  'demoTransfer',
  `local from = tonumber(redis.call('GET', KEYS[1]) or '0')
   if from < tonumber(ARGV[1]) then return 0 end
   redis.call('DECRBY', KEYS[1], ARGV[1]); redis.call('INCRBY', KEYS[2], ARGV[1]); return 1`,
);

export const connectionTour: DemoScenario = {
  name: 'connection',
  title: 'Connection: one API for standalone and Cluster',
  async run({ redis, log }) {
    const keys = createKeyspace(`demo:${process.pid}:`);
    log(`Connected (${redis.topology}); PING took ${(await redis.ping()).toFixed(2)} ms.`);

    const greeting = keys.key('tour', 'greeting');
    await redis.send(['SET', greeting, 'hello', 'PX', '60000'], { key: greeting });
    const value = await redis.bounded(redis.client.get(greeting));
    log(`SET then GET ${greeting} → "${value}"`);
    expectThat(value === 'hello', `GET returned ${String(value)}`);

    // 20 concurrent read-modify-write transactions on one key: WATCH on isolated connections.
    const counter = keys.key('tour', 'counter');
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (;;) {
          const done = await redis.isolated(counter, async (client) => {
            await redis.bounded(client.watch(counter));
            const current = Number((await redis.bounded(client.get(counter))) ?? 0);
            return redis.bounded(
              client
                .multi()
                .set(counter, String(current + 1), { PX: 60_000 })
                .exec()
                .then(() => true)
                .catch((err: unknown) => (isWatchError(err) ? false : Promise.reject(err))),
            );
          });
          if (done) return;
          conflicts++;
        }
      }),
    );
    const total = await redis.send<string>(['GET', counter], { key: counter });
    log(`20 WATCH/MULTI increments → counter ${total} (${conflicts} WATCH conflicts retried)`);
    expectThat(total === '20', `counter is ${total}, expected 20`);

    const from = keys.key('account', 'balance');
    const to = keys.key('account', 'savings');
    await redis.send(['SET', from, '100', 'PX', '60000'], { key: from });
    const moved = await redis.runScript(transferScript, [from, to], ['30']);
    log(`A Lua transfer across two keys of one hash tag → ${moved === 1 ? 'moved 30' : 'refused'}`);
    expectThat(moved === 1, 'the script refused the transfer');
    await redis.send(['PEXPIRE', to, '60000'], { key: to });

    let found = 0;
    for await (const _ of redis.scan(keys.pattern('tour'))) found++;
    log(`SCAN over every master found ${found} keys of the tour`);
    expectThat(found === 2, `SCAN found ${found} keys, expected 2`);
  },
};
