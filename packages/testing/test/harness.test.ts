import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type RedisCluster,
  type RedisServer,
  startCluster,
  startRedis,
  topologies,
  uniquePrefix,
} from '../src/index.ts';

/** A client that fails instead of reconnecting, so a dead server shows up as an error. */
function strictClient(url: string) {
  return createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
}

describe('global setup', () => {
  it("provides one standalone server and one Cluster per test worker, and topologies() picks this worker's", async () => {
    const urls = inject('redisUrls');
    const sets = inject('clusterRootNodeSets');
    expect(urls.length).toBeGreaterThanOrEqual(1);
    expect(sets).toHaveLength(urls.length);
    // No two workers share a server, so files running at once never see each other's commands
    // (a REDIS_URL is the one exception: every worker's standalone server).
    const hosts = [...(process.env.REDIS_URL ? [] : urls), ...sets.flat().map((n) => n.url)].map(
      (u) => new URL(u).host,
    );
    expect(new Set(hosts).size).toBe(hosts.length);
    for (const url of urls) {
      const client = await strictClient(url).connect();
      expect(await client.ping()).toBe('PONG');
      client.destroy();
    }
    for (const nodes of sets) expect(nodes).toHaveLength(process.env.REDIS_PATTERNS_CLUSTER === '0' ? 0 : 3);
    // This worker's own set: one per worker, so no worker is past the end of the list.
    const worker = Number(process.env.VITEST_POOL_ID);
    expect(worker).toBeGreaterThanOrEqual(1);
    expect(worker).toBeLessThanOrEqual(urls.length);
    expect(topologies()[0]?.url).toBe(urls[worker - 1]);
  });
});

describe('startRedis({ forceBinary: true })', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ forceBinary: true, args: ['--appendonly', 'yes'] });
  });
  afterAll(() => server.stop());

  it('answers PING on loopback', async () => {
    expect(server).toMatchObject({ source: 'binary', canFault: true, host: '127.0.0.1' });
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const client = await strictClient(server.url).connect();
    expect(await client.ping()).toBe('PONG');
    client.destroy();
  });

  it('kill() drops connections and restart() brings the data back on the same port', async () => {
    const key = `${uniquePrefix('kill')}k`;
    const client = await strictClient(server.url).connect();
    await client.set(key, 'survives');
    client.on('error', () => {}); // the kill surfaces as a socket error too
    await server.kill();
    await expect(client.get(key)).rejects.toThrow();
    await expect(strictClient(server.url).connect()).rejects.toThrow();

    await server.restart();
    const again = await strictClient(server.url).connect();
    expect(await again.get(key)).toBe('survives');
    again.destroy();
  });

  it('pause() stops answers and resume() brings them back', async () => {
    const client = await strictClient(server.url).connect();
    await server.pause();
    const pending = client.ping();
    expect(await Promise.race([pending, sleep(300, 'timeout')])).toBe('timeout');
    await server.resume();
    expect(await pending).toBe('PONG');
    client.destroy();
  });
});

describe('servers we do not own', () => {
  it('refuse faults', async () => {
    const saved = process.env.REDIS_URL;
    process.env.REDIS_URL = 'redis://127.0.0.1:6390';
    try {
      const server = await startRedis();
      expect(server).toMatchObject({ source: 'env', canFault: false, port: 6390 });
      await expect(server.kill()).rejects.toThrow(/needs the redis-server binary/);
      await server.stop();
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = saved;
    }
  });
});

describe('startCluster()', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(() => cluster.stop());

  it('serves keys across all masters', async () => {
    const client = await createCluster({ rootNodes: cluster.rootNodes }).connect();
    const prefix = uniquePrefix('cluster');
    const keys = Array.from({ length: 100 }, (_, i) => `${prefix}${i}`);
    for (const key of keys) await client.set(key, key);
    for (const key of keys) expect(await client.get(key)).toBe(key);
    await client.close();

    for (const node of cluster.nodes) {
      const direct = await strictClient(node.url).connect();
      expect(await direct.dbSize()).toBeGreaterThan(0);
      expect(await direct.clusterInfo()).toMatch(/cluster_known_nodes:3\r\n/);
      direct.destroy();
    }
  });

  it('a restarted node rejoins with the same id', async () => {
    const node = cluster.nodes[0]!;
    const myId = async () => {
      const client = await strictClient(node.url).connect();
      const id = await client.clusterMyId();
      client.destroy();
      return id;
    };
    const before = await myId();
    await node.kill();
    await node.restart();
    expect(await myId()).toBe(before);
  });
});

describe('uniquePrefix', () => {
  it('differs between calls', () => {
    expect(uniquePrefix('a')).toMatch(/^t:a:[0-9a-f]{8}:$/);
    expect(uniquePrefix('a')).not.toBe(uniquePrefix('a'));
  });
});
