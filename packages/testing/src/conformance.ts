import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startCluster } from './cluster.ts';
import { type RedisServer, startRedis } from './server.ts';
import { topologies } from './topologies.ts';

/** What the suite needs of a connection: the pattern's own `connect()` result fits. */
export interface ConformanceConnection {
  scan(pattern: string): AsyncIterable<string>;
  ping(): Promise<number>;
  close(): Promise<void>;
}

/** How the suite opens a connection: with a short command bound and fast reconnects. */
export interface ConformanceConnectOptions {
  url: string;
  commandTimeoutMs: number;
  reconnect: { maxDelayMs: number };
}

/**
 * One pattern under the shared conformance suite (see {@link describeConformance}): how to build
 * its top-level object under a prefix, one call that writes and one that reads it back.
 */
export interface ConformanceSubject<T extends { close(): Promise<void> }, C extends ConformanceConnection> {
  /** The object, in test names: `'cache'`, `'lock'`. */
  name: string;
  /** The pattern's re-exported `connect`. */
  connect(options: ConformanceConnectOptions): Promise<C>;
  /** The object under `prefix`, with every wait of its own bounded by `boundMs`. */
  create(redis: C, prefix: string, boundMs: number): T;
  /** A call that writes under the object's prefix. */
  write(object: T): Promise<unknown>;
  /** A call that reads what `write` wrote: a different value before and after it. */
  read(object: T): Promise<unknown>;
  /** Calls with bad input, by name: each must fail with `ERR_INVALID_ARGUMENT` and write nothing. */
  badInput: Record<string, (object: T) => unknown>;
  /** The documented fallback of `write`/`read` while Redis is down, where it is not an error. */
  fallback?: { write?: unknown; read?: unknown };
}

/** A command bound short enough for a fast suite, long enough for a loaded 2-core machine. */
const BOUND_MS = 400;
/** Slack over a call's bound: one sweep tick, scheduling on a loaded machine. */
const SLACK_MS = 600;

/** The keys under `prefix` (every master of a Cluster). */
async function keysUnder(redis: ConformanceConnection, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of redis.scan(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`)) keys.push(key);
  return keys.sort();
}

/** `typed <code>`, `fallback` (when it ended as documented), or what else it ended with. */
async function outcome(
  call: () => Promise<unknown>,
  fallback: unknown,
): Promise<{ ended: string; ms: number }> {
  const started = performance.now();
  const ended = await call().then(
    (value) =>
      fallback !== undefined && JSON.stringify(value) === JSON.stringify(fallback)
        ? 'fallback'
        : `resolved ${JSON.stringify(value)}`,
    (err: unknown) => {
      const code = (err as { code?: unknown } | null)?.code;
      return typeof code === 'string' && code.startsWith('ERR_') ? `typed ${code}` : `untyped ${String(err)}`;
    },
  );
  return { ended, ms: performance.now() - started };
}

const expectTyped = (fallback: unknown) =>
  fallback === undefined
    ? expect.stringMatching(/^typed ERR_(TIMEOUT|CONNECTION)$/)
    : expect.stringMatching(/^(typed ERR_(TIMEOUT|CONNECTION)|fallback)$/);

/** Counts of the resources that keep a process alive (sockets, ref'd timers), by type. */
function liveResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** The resource types of which more are alive now than in `baseline`, polled for up to `ms`. */
async function leftOver(baseline: Map<string, number>, ms = 2_000): Promise<string[]> {
  for (const until = performance.now() + ms; ; ) {
    const now = liveResources();
    const extra = [...now]
      .filter(([type, n]) => n > (baseline.get(type) ?? 0))
      .map(([type, n]) => `${type} +${n - (baseline.get(type) ?? 0)}`);
    if (extra.length === 0 || performance.now() > until) return extra;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The suite every pattern runs on every topology of the run (standalone, Cluster): prefix
 * isolation, bad input refused before any write, close() and no open handle after it; then, on a
 * server (and a Cluster) of its own, Redis paused or down ends each call within its bound with a
 * typed error or the documented fallback, and a call that failed while Redis was down is never sent
 * once it is back (no ghost write).
 *
 * @example
 * ```ts
 * describeConformance({
 *   name: 'cache',
 *   connect,
 *   create: (redis, prefix, boundMs) => createCache({ redis, prefix, commandTimeoutMs: boundMs }),
 *   write: (cache) => cache.set('k', 1),
 *   read: (cache) => cache.get('k'),
 *   badInput: { 'set(null)': (cache) => cache.set(null as never, 1) },
 *   fallback: {},
 * });
 * ```
 */
export function describeConformance<T extends { close(): Promise<void> }, C extends ConformanceConnection>(
  subject: ConformanceSubject<T, C>,
): void {
  describe.each(topologies())(`${subject.name} conformance on $name`, ({ url }) => {
    let redis: C;
    const base = `t:conf:${randomBytes(4).toString('hex')}:`;
    beforeAll(async () => {
      redis = await subject.connect({ url, commandTimeoutMs: 2_000, reconnect: { maxDelayMs: 200 } });
    });
    afterAll(async () => {
      await redis?.close();
    });

    it('keeps its keys under its prefix and does not see another prefix’s', async () => {
      const a = subject.create(redis, `${base}iso:a:`, BOUND_MS);
      const b = subject.create(redis, `${base}iso:ab:`, BOUND_MS);
      try {
        const before = await subject.read(b);
        await subject.write(a);
        expect(await subject.read(a)).not.toEqual(before);
        expect(await subject.read(b)).toEqual(before);
        const keys = await keysUnder(redis, `${base}iso:`);
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.filter((key) => !key.startsWith(`${base}iso:a:`))).toEqual([]);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('refuses bad input with a typed error before writing anything', async () => {
      const object = subject.create(redis, `${base}bad:`, BOUND_MS);
      try {
        for (const [name, call] of Object.entries(subject.badInput)) {
          const error = await Promise.resolve()
            .then(() => call(object))
            .then(
              () => undefined,
              (err: unknown) => err,
            );
          expect(error, name).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        }
        expect(await keysUnder(redis, `${base}bad:`)).toEqual([]);
      } finally {
        await object.close();
      }
    });

    it('closes twice, refuses later calls with ClosedError, and leaves no open handle', async () => {
      const baseline = liveResources();
      const own = await subject.connect({ url, commandTimeoutMs: 2_000, reconnect: { maxDelayMs: 200 } });
      const object = subject.create(own, `${base}close:`, BOUND_MS);
      await subject.write(object);
      await subject.read(object);
      expect(typeof (object as Partial<AsyncDisposable>)[Symbol.asyncDispose]).toBe('function');
      await object.close();
      await object.close();
      const keys = await keysUnder(redis, `${base}close:`);
      await expect(subject.write(object)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
      expect(await keysUnder(redis, `${base}close:`)).toEqual(keys);
      await own.close();
      expect(await leftOver(baseline)).toEqual([]);
    });
  });

  describe(`${subject.name} with Redis paused or down`, () => {
    describeOutage(subject, 'standalone');
    describeOutage(subject, 'cluster');
  });
}

/** The outage half of the suite, on a server or a 3-master Cluster of its own. */
function describeOutage<T extends { close(): Promise<void> }, C extends ConformanceConnection>(
  subject: ConformanceSubject<T, C>,
  topology: 'standalone' | 'cluster',
): void {
  describe(`on a ${topology} of its own`, () => {
    let servers: RedisServer[];
    let cluster: RedisCluster | undefined;
    let redis: C;
    let object: T;
    const prefix = `t:outage:${randomBytes(4).toString('hex')}:`;
    const all = (f: (server: RedisServer) => Promise<void>) => Promise.all(servers.map(f));

    beforeAll(async () => {
      let url: string;
      if (topology === 'cluster') {
        cluster = await startCluster();
        servers = cluster.nodes;
        url = `redis://${cluster.rootNodes.map((node) => new URL(node.url).host).join(',')}?cluster=true`;
      } else {
        servers = [await startRedis({ forceBinary: true })];
        url = (servers[0] as RedisServer).url;
      }
      redis = await subject.connect({ url, commandTimeoutMs: BOUND_MS, reconnect: { maxDelayMs: 100 } });
      object = subject.create(redis, prefix, BOUND_MS);
      // Scripts loaded, pools open: the calls below meet a connection that has worked.
      await subject.write(object);
      await subject.read(object);
    });
    afterAll(async () => {
      if (servers !== undefined) await all((server) => server.resume().catch(() => {}));
      await object?.close();
      await redis?.close();
      if (cluster !== undefined) await cluster.stop();
      else if (servers !== undefined) await all((server) => server.stop());
    });

    const checkBoth = async () => {
      const results = await Promise.all([
        outcome(() => subject.write(object), subject.fallback?.write),
        outcome(() => subject.read(object), subject.fallback?.read),
      ]);
      for (const [i, { ended, ms }] of results.entries()) {
        const call = i === 0 ? 'write' : 'read';
        const fallback = i === 0 ? subject.fallback?.write : subject.fallback?.read;
        expect({ call, ended }).toEqual({ call, ended: expectTyped(fallback) });
        expect(ms, call).toBeLessThan(BOUND_MS + SLACK_MS);
      }
    };

    it('ends a write and a read within the bound while Redis is paused', async () => {
      await all((server) => server.pause());
      try {
        await checkBoth();
      } finally {
        await all((server) => server.resume());
      }
    });

    it('ends them at once while Redis is down, and never sends them once it is back', async () => {
      await waitForPing(redis);
      const before = await keysUnder(redis, prefix);
      await all((server) => server.kill());
      await new Promise((resolve) => setTimeout(resolve, 200)); // the connection saw the sockets close
      await checkBoth();
      await all((server) => server.restart());
      await waitForPing(redis);
      // A call that failed must not arrive late: give a queued command time to be flushed.
      await new Promise((resolve) => setTimeout(resolve, 500));
      // The restarted servers are empty: any key under the prefix was written after the restart.
      expect({ before: before.length > 0, after: await keysUnder(redis, prefix) }).toEqual({
        before: true,
        after: [],
      });
    });
  });
}

/** Resolves once the connection answers again (after a restart), within 15 s. */
async function waitForPing(redis: ConformanceConnection): Promise<void> {
  for (const until = performance.now() + 15_000; ; ) {
    if (
      await redis.ping().then(
        () => true,
        () => false,
      )
    ) {
      // Every master: a scan touches each one.
      if (
        await keysUnder(redis, 't:none-such:').then(
          () => true,
          () => false,
        )
      )
        return;
    }
    if (performance.now() > until) throw new Error('Redis did not answer within 15 s of the restart');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
