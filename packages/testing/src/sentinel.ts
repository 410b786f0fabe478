import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBinary } from './binary.ts';
import { pollUntil } from './poll.ts';
import { sendCommand } from './resp.ts';
import type { RedisServer } from './server.ts';

/** A Sentinel watching one master, plus the URL that connects through it. */
export interface RedisSentinelHandle {
  sentinel: RedisServer;
  /** `redis://127.0.0.1:SENTINEL_PORT?sentinelMaster=NAME`. */
  url: string;
  name: string;
  stop(): Promise<void>;
}

/**
 * Sentinel's internal periods, tightened with SENTINEL DEBUG (Redis 7.0+).
 * - ping 400 ms: Sentinel reconnects to an instance at most once per ping period, and after a
 *   failover it counts the new master's down-after from the switch; with the default 1 s period and
 *   a 1 s down-after it can judge the new master down before it has even reconnected, and fail over
 *   again to whatever replica answers (even a restarted, empty old master). Not lower: when picking
 *   a replica to promote it skips those whose last INFO is older than 5 ping periods, and it asks
 *   replicas for INFO only once a second during a failover.
 * - INFO every second and hellos every 500 ms: a demoted or restarted old master is made a replica
 *   4 hello periods after it first reports itself master, at the next INFO (about 3 s instead of
 *   10 s), and sentinels find each other sooner.
 */
const SENTINEL_PERIODS = ['ping-period', '400', 'info-period', '1000', 'publish-period', '500'];

/**
 * Spawns redis-server in sentinel mode monitoring `master` as `name`. Short timings (down after
 * 1 s, failover timeout 5 s, and the periods above) let a failover finish within seconds.
 */
export async function spawnSentinel(master: RedisServer, name: string, quorum: number): Promise<RedisServer> {
  const sentinel = await startBinary(['--sentinel'], undefined, async (dir) => {
    const file = join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file, so it must be a writable file of its own.
    await writeFile(
      file,
      [
        `sentinel monitor ${name} ${master.host} ${master.port} ${quorum}`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'),
    );
    return file;
  });
  const reply = await sendCommand(sentinel.port, ['SENTINEL', 'DEBUG', ...SENTINEL_PERIODS]).catch(String);
  if (reply !== '+OK') {
    await sentinel.stop();
    throw new Error(
      `SENTINEL DEBUG on sentinel ${sentinel.port} answered ${reply}; it needs Redis 7.0 or later`,
    );
  }
  return sentinel;
}

/** The master address a sentinel gives clients (SENTINEL GET-MASTER-ADDR-BY-NAME); undefined if none. */
export async function masterAddress(
  sentinel: RedisServer,
  name: string,
): Promise<{ host: string; port: number } | undefined> {
  const reply = await sendCommand(sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]);
  if (reply.startsWith('-')) throw new Error(`Sentinel on port ${sentinel.port} answered ${reply}`);
  const [host, port] = reply.split('\n');
  return host && port ? { host, port: Number(port) } : undefined;
}

/** Starts one redis-server in sentinel mode monitoring `master` (a binary server), quorum 1. */
export async function startSentinel(master: RedisServer, name = 'mymaster'): Promise<RedisSentinelHandle> {
  const sentinel = await spawnSentinel(master, name, 1);
  try {
    // Ready once the sentinel reports the master's address.
    await pollUntil(
      `sentinel ${sentinel.port} to report master ${name}`,
      Date.now() + 10_000,
      async () => (await masterAddress(sentinel, name)) && true,
      50,
    );
  } catch (error) {
    await sentinel.stop();
    throw error;
  }
  return {
    sentinel,
    name,
    url: `redis://127.0.0.1:${sentinel.port}?sentinelMaster=${name}`,
    stop: () => sentinel.stop(),
  };
}
