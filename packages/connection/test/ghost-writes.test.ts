import { setTimeout as sleep } from 'node:timers/promises';
import { type RedisCluster, startCluster, startRedis, untilAnswers } from '@redis-patterns/testing';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  connect,
  defineScript,
  type RedisCluster as RedisClusterClient,
  type RedisConnection,
  slotOf,
  TimeoutError,
  toConnection,
} from '../src/index.ts';

// The contract under test: a command whose caller was told it failed is never sent later.

async function untilDown(redis: RedisConnection): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (redis.isReady && Date.now() < deadline) await sleep(10);
}

describe('no ghost writes on a single server', () => {
  it('drops a write held behind commands on another socket once its caller timed out', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, sockets: 2, commandTimeoutMs: 2_000 });
    try {
      const idOf = (key: string) => redis.send<number>(['CLIENT', 'ID'], { key });
      const a = 'ga0';
      const aSocket = await idOf(a);
      let b = '';
      for (let i = 0; b === ''; i++) if ((await idOf(`gb${i}`)) !== aSocket) b = `gb${i}`;
      await server.pause();
      // Writes to a and b in flight on two sockets; a write to both must wait until both answer.
      const earlier = [a, b].map((k) => redis.send(['SET', k, 'first'], { key: k }).catch(() => {}));
      const held = await redis
        .send(['MSET', a, 'ghost', b, 'ghost'], { keys: [a, b], timeoutMs: 300 })
        .catch((err: unknown) => err);
      expect(held).toBeInstanceOf(TimeoutError);
      await server.resume();
      await Promise.all(earlier);
      await sleep(200);
      expect(await redis.send(['MGET', a, b], { keys: [a, b] })).toEqual(['first', 'first']);
    } finally {
      await server.resume().catch(() => {});
      await redis.close();
      await server.stop();
    }
  });

  it('does not resend a script whose EVALSHA met NOSCRIPT after its caller gave up', async () => {
    const server = await startRedis({ forceBinary: true });
    const redis = await connect({ url: server.url, commandTimeoutMs: 2_000 });
    const bump = defineScript('ghostBump', "return redis.call('INCR', KEYS[1])");
    try {
      expect(await redis.runScript(bump, ['bumped'], [])).toBe(1);
      await redis.send(['SCRIPT', 'FLUSH']);
      await server.pause();
      const late = await redis.runScript(bump, ['bumped'], [], { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(late).toBeInstanceOf(TimeoutError);
      await server.resume();
      await sleep(200);
      expect(await redis.send(['GET', 'bumped'])).toBe('1');
      // A later call loads the script again.
      expect(await redis.runScript(bump, ['bumped'], [])).toBe(2);
    } finally {
      await server.resume().catch(() => {});
      await redis.close();
      await server.stop();
    }
  });

  it.each([1, 2])(
    'fails a MULTI at once while its socket reconnects, and never runs it later (%i sockets)',
    async (sockets) => {
      const server = await startRedis({
        forceBinary: true,
        args: ['--appendonly', 'yes', '--appendfsync', 'always'],
      });
      const redis = await connect({
        url: server.url,
        sockets,
        commandTimeoutMs: 1_000,
        reconnect: { maxDelayMs: 100 },
      });
      try {
        await redis.send(['SET', 'tx', '0'], { key: 'tx' });
        await server.kill();
        await untilDown(redis);
        const started = performance.now();
        const error = await redis
          .multi('tx')
          .incr('tx')
          .exec()
          .catch((err: unknown) => err);
        expect(error).toBeInstanceOf(ConnectionError);
        expect(performance.now() - started).toBeLessThan(250);
        await server.restart();
        await untilAnswers(redis);
        await sleep(300);
        expect(await redis.send(['GET', 'tx'], { key: 'tx' })).toBe('0');
      } finally {
        await redis.close();
        await server.stop();
      }
    },
  );
  it.each([1, 2])(
    'types the failure of an EXEC whose socket closes while it waits (%i sockets)',
    async (sockets) => {
      const server = await startRedis({ forceBinary: true });
      const redis = await connect({ url: server.url, sockets, commandTimeoutMs: 2_000 });
      try {
        await redis.send(['SET', 'tx', '0'], { key: 'tx' });
        await server.pause();
        // Sent on a ready socket; the server dies before it answers.
        const pending = redis
          .multi('tx')
          .incr('tx')
          .exec()
          .catch((err: unknown) => err);
        await sleep(50);
        await server.kill();
        const error = await pending;
        expect(error).toBeInstanceOf(ConnectionError);
        expect((error as Error).message).toMatch(/^MULTI failed: Redis is unreachable/);
      } finally {
        await redis.close();
        await server.stop();
      }
    },
  );
});

describe('no ghost writes on a dedicated connection', () => {
  it('fails a transaction at once while the isolated connection reconnects, and never runs it later', async () => {
    const server = await startRedis({
      forceBinary: true,
      args: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    const redis = await connect({ url: server.url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 100 } });
    try {
      const error = await redis
        .isolated('iso', async (client) => {
          await server.kill();
          for (const until = Date.now() + 5_000; client.isReady && Date.now() < until; ) await sleep(10);
          const started = performance.now();
          const failed = await client
            .multi()
            .incr('iso')
            .exec()
            .catch((err: unknown) => err);
          expect(performance.now() - started).toBeLessThan(250);
          return failed;
        })
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ConnectionError);
      await server.restart();
      await untilAnswers(redis);
      await sleep(500);
      expect(await redis.send(['GET', 'iso'])).toBeNull();
    } finally {
      await redis.close();
      await server.stop();
    }
  });
});

describe('no ghost writes on a Cluster with a dead master', () => {
  let cluster: RedisCluster;
  let url: string;
  beforeAll(async () => {
    cluster = await startCluster();
    url = `redis://${cluster.rootNodes.map((n) => new URL(n.url).host).join(',')}?cluster=true`;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('fails commands and transactions for the dead node at once, runs them nowhere later, and names the node', async () => {
    const redis = await connect({ url, commandTimeoutMs: 1_000, reconnect: { maxDelayMs: 100 } });
    // A cluster the caller made, with node-redis's offline queue on: the same must hold.
    const theirs = createCluster({
      rootNodes: cluster.rootNodes,
      defaults: { socket: { reconnectStrategy: () => 100 } },
    });
    theirs.on('error', () => {});
    await theirs.connect();
    const wrapped = toConnection(theirs as unknown as RedisClusterClient);
    try {
      const key = 'ghost:{dead}';
      const owner = await redis.send<Array<[number, number, [string, number]]>>(['CLUSTER', 'SLOTS']);
      const range = owner.find(([from, to]) => from <= slotOf(key) && slotOf(key) <= to);
      const port = Number(range?.[2]?.[1]);
      const node = cluster.nodes.find((n) => n.port === port);
      expect(node).toBeDefined();
      await node?.kill();
      // Each client notices its socket to that node closed.
      await sleep(300);
      for (const conn of [redis, wrapped]) {
        const started = performance.now();
        const incr = await conn.send(['INCR', key], { key }).catch((err: unknown) => err);
        const tx = await conn
          .multi(key)
          .incr(key)
          .exec()
          .catch((err: unknown) => err);
        expect(performance.now() - started).toBeLessThan(500);
        expect(incr).toBeInstanceOf(ConnectionError);
        expect(tx).toBeInstanceOf(ConnectionError);
        expect((incr as Error).message).toContain(`:${port}`);
      }
      // Once the other nodes mark it failed, the Cluster refuses every slot: a typed error.
      let other = 'alive:0';
      for (let i = 1; range !== undefined && slotOf(other) >= range[0] && slotOf(other) <= range[1]; i++)
        other = `alive:${i}`;
      let refused: unknown;
      for (const until = Date.now() + 15_000; !(refused instanceof Error) && Date.now() < until; ) {
        refused = await redis.send(['GET', other], { key: other }).catch((err: unknown) => err);
        await sleep(100);
      }
      expect(refused).toBeInstanceOf(ConnectionError);
      expect((refused as Error).message).toContain('CLUSTERDOWN');
      await node?.restart();
      for (const conn of [redis, wrapped])
        await untilAnswers({ ping: () => conn.send(['GET', key], { key }).then(() => 1) }, 15_000);
      await sleep(300);
      expect(await redis.send(['GET', key], { key })).toBeNull();
    } finally {
      await redis.close();
      await wrapped.close();
      await theirs.close().catch(() => {});
    }
  });
});
