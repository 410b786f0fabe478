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
