import type { RedisServer } from './server.ts';

/** The fault methods of a server we do not own (env, container): each throws. */
export function unsupportedFaults(
  source: RedisServer['source'],
): Pick<RedisServer, 'kill' | 'restart' | 'pause' | 'resume'> {
  const refuse = async (): Promise<never> => {
    throw new Error(
      `Fault injection needs the redis-server binary; this server's source is '${source}'. ` +
        'Use startRedis({ forceBinary: true }).',
    );
  };
  return { kill: refuse, restart: refuse, pause: refuse, resume: refuse };
}

/**
 * Waits until `redis` answers a PING again (after a restart or a kill), polling every 50 ms; throws
 * after `timeoutMs`. Takes anything with the connection package's `ping()`.
 */
export async function untilAnswers(redis: { ping(): Promise<number> }, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await redis.ping().catch(() => -1)) < 0) {
    if (Date.now() > deadline) throw new Error(`Redis did not answer again within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
