import { onPath, startBinary } from './binary.ts';
import { containerRuntimeAvailable, startContainer } from './container.ts';
import { unsupportedFaults } from './faults.ts';

/** A running Redis server for tests, with fault injection when we own the process. */
export interface RedisServer {
  /** `redis://HOST:PORT`. */
  url: string;
  host: string;
  port: number;
  /** Where it came from: REDIS_URL, a testcontainers container, or a spawned redis-server. */
  source: 'env' | 'container' | 'binary';
  /** True only for 'binary': the fault methods below throw otherwise. */
  canFault: boolean;
  /** Graceful shutdown that removes the temp dir; idempotent (a no-op for 'env'). */
  stop(): Promise<void>;
  /** SIGKILLs the process and resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts again on the same port, dir and args (appendonly data survives); resolves once PING answers. */
  restart(): Promise<void>;
  /** SIGSTOPs the process: connections stay open but nothing answers. */
  pause(): Promise<void>;
  /** SIGCONTs a paused process. */
  resume(): Promise<void>;
}

/** How {@link startRedis} chooses and configures a server. */
export interface StartRedisOptions {
  /** Use process.env.REDIS_URL when set (default true). */
  useEnv?: boolean;
  /** Skip env and container and always spawn redis-server (default false); fault tests need this. */
  forceBinary?: boolean;
  /** Extra redis-server args, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
}

/** The error to throw when no way to get a Redis server works, saying how to get one. */
export function noRedisError(binaryOnly: boolean): Error {
  const how = binaryOnly
    ? 'this needs the redis-server binary: install redis-server (apt-get install -y redis-server)'
    : 'install redis-server (apt-get install -y redis-server), start Docker, or set REDIS_URL';
  return new Error(`No Redis server available for the tests: ${how}.`);
}

function envServer(url: string): RedisServer {
  const parsed = new URL(url);
  return {
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    source: 'env',
    canFault: false,
    async stop() {
      // Not ours to stop.
    },
    ...unsupportedFaults('env'),
  };
}

/** Gets a real Redis server: REDIS_URL, else a container if a runtime answers, else the redis-server binary. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const { useEnv = true, forceBinary = false, args = [] } = options;
  const envUrl = process.env.REDIS_URL;
  if (!forceBinary && useEnv && envUrl) return envServer(envUrl);
  if (!forceBinary && (await containerRuntimeAvailable())) return startContainer(args);
  if (onPath('redis-server')) return startBinary(args);
  throw noRedisError(forceBinary);
}
