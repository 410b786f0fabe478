import { createSentinel } from 'redis';
import { describe, expect, it } from 'vitest';
import {
  type RedisSentinelGroup,
  type SentinelGroupOptions,
  startRedis,
  startSentinel,
  startSentinelGroup,
  uniquePrefix,
} from '../src/index.ts';
import { readReplication } from '../src/replication.ts';
import { sendCommand, sendCommands } from '../src/resp.ts';

/** The master port each sentinel gives clients. */
async function sentinelMasterPorts(group: RedisSentinelGroup): Promise<number[]> {
  const replies = await Promise.all(
    group.sentinels.map((sentinel) =>
      sendCommand(sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', group.name]),
    ),
  );
  return replies.map((reply) => Number(reply.split('\n')[1]));
}

/** Runs the test body against a fresh group and always stops it. */
async function withGroup(
  options: SentinelGroupOptions,
  body: (group: RedisSentinelGroup) => Promise<void>,
): Promise<void> {
  const group = await startSentinelGroup(options);
  try {
    await body(group);
  } finally {
    await group.stop();
  }
}

describe('startSentinelGroup()', () => {
  it('kill: the sentinel promotes the replica, which keeps a WAITed write, and the restarted master becomes its replica', () =>
    withGroup({}, async (group) => {
      const [first, replica] = group.servers;
      expect(group.url).toBe(`redis://127.0.0.1:${group.sentinels[0]!.port}?sentinelMaster=mymaster`);
      expect(group.master()).toBe(first);
      expect(await readReplication(replica!.port)).toEqual({
        role: 'slave',
        masterPort: first!.port,
        linkUp: true,
      });
      const key = `${uniquePrefix('sentinel')}kept`;
      expect(
        await sendCommands(first!.port, [
          ['SET', key, 'kept'],
          ['WAIT', '1', '2000'],
        ]),
      ).toEqual(['+OK', ':1']);

      const result = await group.failover({ mode: 'kill', timeoutMs: 25_000 });

      expect(result.previous).toBe(first);
      expect(result.promoted).toBe(replica);
      expect(group.master()).toBe(replica);
      expect(await sentinelMasterPorts(group)).toEqual([replica!.port]);
      expect(await sendCommand(replica!.port, ['GET', key])).toBe('kept');
      expect(await readReplication(first!.port)).toEqual({
        role: 'slave',
        masterPort: replica!.port,
        linkUp: true,
      });
      expect(result.rejoinedAfterMs).toBeGreaterThanOrEqual(result.promotedAfterMs);

      // A client that asks the sentinel lands on the new master.
      const root = group.sentinels.map((sentinel) => ({ host: sentinel.host, port: sentinel.port }));
      const client = await createSentinel({ name: group.name, sentinelRootNodes: root }).connect();
      try {
        expect(await client.get(key)).toBe('kept');
      } finally {
        client.destroy();
      }
    }));

  it('manual with three sentinels: all of them report the promoted replica and the old master is demoted to its replica', () =>
    withGroup({ replicas: 2, sentinels: 3 }, async (group) => {
      const hosts = group.sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(',');
      expect(group.url).toBe(`redis://${hosts}?sentinelMaster=mymaster`);
      const first = group.master();

      const result = await group.failover({ mode: 'manual', timeoutMs: 25_000 });

      expect(result.previous).toBe(first);
      expect(group.servers.slice(1)).toContain(result.promoted);
      expect(await sentinelMasterPorts(group)).toEqual(group.sentinels.map(() => result.promoted.port));
      expect(await readReplication(result.promoted.port)).toMatchObject({ role: 'master' });
      // The old master was never down: Sentinel itself turned it into a replica of the new one.
      expect(await readReplication(first.port)).toEqual({
        role: 'slave',
        masterPort: result.promoted.port,
        linkUp: true,
      });
      expect(result.rejoinedAfterMs).toBeGreaterThanOrEqual(result.promotedAfterMs);
    }));

  it('with restartOldMaster: false returns once promoted and leaves the old master down', () =>
    withGroup({}, async (group) => {
      const [first, replica] = group.servers;
      const result = await group.failover({ restartOldMaster: false, timeoutMs: 20_000 });

      expect(result.rejoinedAfterMs).toBeUndefined();
      expect(result.promoted).toBe(replica);
      await expect(sendCommand(first!.port, ['PING'])).rejects.toThrow();
      expect(await group.refreshMaster()).toBe(replica);
      expect(await readReplication(replica!.port)).toMatchObject({ role: 'master' });
    }));

  it('refuses to fail over a master without replicas', () =>
    withGroup({ replicas: 0 }, async (group) => {
      await expect(group.failover()).rejects.toThrow(/needs a replica/);
      expect(await sendCommand(group.master().port, ['PING'])).toBe('+PONG');
    }));
});

describe('startSentinel()', () => {
  it('watches the given master and gives its address to clients', async () => {
    const master = await startRedis({ forceBinary: true });
    const handle = await startSentinel(master, 'solo');
    try {
      expect(handle.url).toBe(`redis://127.0.0.1:${handle.sentinel.port}?sentinelMaster=solo`);
      const reply = await sendCommand(handle.sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'solo']);
      expect(reply).toBe(`127.0.0.1\n${master.port}`);
    } finally {
      await handle.stop();
      await master.stop();
    }
  });
});
