import { unsupportedFaults } from './faults.ts';
import type { RedisServer } from './server.ts';

let probe: Promise<boolean> | undefined;

/** Whether a container runtime answers within timeoutMs; asked once per process. */
export function containerRuntimeAvailable(timeoutMs = 2000): Promise<boolean> {
  probe ??= (async () => {
    // Loaded lazily: testcontainers is heavy and unused whenever the env or the binary wins.
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([
        getContainerRuntimeClient().then(
          () => true,
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  })().catch(() => false);
  return probe;
}

/** Starts a 'redis:7' container with the extra redis-server args. */
export async function startContainer(args: string[]): Promise<RedisServer> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer('redis:7').withCommand(['redis-server', ...args]).start();
  const host = container.getHost();
  const port = container.getPort();
  let stopping: Promise<unknown> | undefined;
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    source: 'container',
    canFault: false,
    async stop() {
      stopping ??= container.stop();
      await stopping;
    },
    ...unsupportedFaults('container'),
  };
}
