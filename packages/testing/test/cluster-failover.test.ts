import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failOverSlot,
  masterForKey,
  type RedisCluster,
  refreshClusterRoles,
  startCluster,
  uniquePrefix,
} from '../src/index.ts';
import { readReplication } from '../src/replication.ts';
import { sendCommand, sendCommands } from '../src/resp.ts';

describe('failOverSlot()', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
  });
  afterAll(() => cluster?.stop());

  it('promotes the replica of the key’s master, which keeps a WAITed write, and the old master rejoins as its replica', async () => {
    const key = `${uniquePrefix('failover')}kept`;
    const before = await masterForKey(cluster, key);
    // WAIT 1: the write reached the replica before the kill, so the promoted node must have it.
    expect(
      await sendCommands(before.port, [
        ['SET', key, 'kept'],
        ['WAIT', '1', '2000'],
      ]),
    ).toEqual(['+OK', ':1']);

    const result = await failOverSlot(cluster, key, { timeoutMs: 20_000 });

    expect(result.killed).toBe(before);
    expect(result.promoted).not.toBe(before);
    expect(await masterForKey(cluster, key)).toBe(result.promoted);
    expect(await sendCommand(result.promoted.port, ['GET', key])).toBe('kept');
    expect(await readReplication(result.killed.port)).toEqual({
      role: 'slave',
      masterPort: result.promoted.port,
      linkUp: true,
    });
    expect(result.promotedAfterMs).toBeGreaterThan(0);
    expect(result.rejoinedAfterMs).toBeGreaterThanOrEqual(result.promotedAfterMs);
    // cluster.nodes and rootNodes follow the new roles.
    expect(cluster.nodes.slice(0, 3)).toContain(result.promoted);
    expect(cluster.nodes.slice(3)).toContain(result.killed);
    expect(cluster.rootNodes).toContainEqual({ url: result.promoted.url });
    expect(cluster.rootNodes).not.toContainEqual({ url: result.killed.url });

    const client = await createCluster({ rootNodes: cluster.rootNodes }).connect();
    try {
      expect(await client.get(key)).toBe('kept');
    } finally {
      client.destroy();
    }
  });

  it('with restartOldMaster: false leaves the old master down, and refuses a slot with no replica left', async () => {
    const key = `${uniquePrefix('failover')}down`;
    const result = await failOverSlot(cluster, key, { restartOldMaster: false, timeoutMs: 20_000 });

    expect(result.rejoinedAfterMs).toBeUndefined();
    await expect(sendCommand(result.killed.port, ['PING'])).rejects.toThrow();
    const roles = await refreshClusterRoles(cluster);
    expect(roles.down).toEqual([result.killed]);
    expect(roles.masters).toContain(result.promoted);
    expect(cluster.nodes.at(-1)).toBe(result.killed);

    // Its only replica is down, so nothing can be promoted: it throws before killing anything.
    await expect(failOverSlot(cluster, key)).rejects.toThrow(
      new RegExp(`master ${result.promoted.port} \\(slot ${result.slot}\\) has no live replica`),
    );
    expect(await sendCommand(result.promoted.port, ['PING'])).toBe('+PONG');
  });
});
