import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBinary } from './binary.ts';
import { sendCommands } from './resp.ts';
import type { RedisServer } from './server.ts';

/** A Sentinel watching one master, plus the URL that connects through it. */
export interface RedisSentinelHandle {
  sentinel: RedisServer;
  /** `redis://127.0.0.1:SENTINEL_PORT?sentinelMaster=NAME`. */
  url: string;
  name: string;
  stop(): Promise<void>;
}

/** Starts one redis-server in sentinel mode monitoring `master` (a binary server), quorum 1. */
export async function startSentinel(master: RedisServer, name = 'mymaster'): Promise<RedisSentinelHandle> {
  const sentinel = await startBinary(['--sentinel'], undefined, async (dir) => {
    const file = join(dir, 'sentinel.conf');
    // Sentinel rewrites its config file, so it must be a writable file of its own.
    await writeFile(
      file,
      [
        `sentinel monitor ${name} ${master.host} ${master.port} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'),
    );
    return file;
  });
  // Ready once the sentinel reports the master's address.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [reply] = await sendCommands(sentinel.port, [['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]]).catch(
      () => [],
    );
    if (reply !== undefined && !reply.startsWith('*-1') && !reply.startsWith('-')) break;
    if (Date.now() > deadline) {
      await sentinel.stop();
      throw new Error(`Sentinel on port ${sentinel.port} never reported master ${name}`);
    }
    await sleep(50);
  }
  return {
    sentinel,
    name,
    url: `redis://127.0.0.1:${sentinel.port}?sentinelMaster=${name}`,
    stop: () => sentinel.stop(),
  };
}
