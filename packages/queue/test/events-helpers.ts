import type { RedisConnection } from '@redis-patterns/connection';
import type { QueueEventMap, QueueEvents } from '../src/index.ts';
import { sleep } from './helpers.ts';

// Helpers of the events and waitUntilFinished tests: entries appended as the scripts write them,
// the subscriber's connections on the server, and the process's open handles.

/** Appends one entry to `stream` as the scripts do (optionally capped at exactly `maxLen`); returns its id. */
export function xadd(
  redis: RedisConnection,
  stream: string,
  fields: Record<string, string>,
  maxLen?: number,
): Promise<string> {
  const cap = maxLen ? ['MAXLEN', String(maxLen)] : [];
  return redis.send<string>(['XADD', stream, ...cap, '*', ...Object.entries(fields).flat()], { key: stream });
}

/** Appends `added` entries k<from>.. in one script (so no reader runs in between), capped at exactly `maxLen`. */
export function xaddMany(
  redis: RedisConnection,
  stream: string,
  from: number,
  count: number,
  maxLen: number,
): Promise<string[]> {
  const script = `local ids = {}
    for i = tonumber(ARGV[1]), tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1 do
      ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[3], '*', 'e', 'added', 'j', 'k' .. i)
    end
    return ids`;
  return redis.send<string[]>(['EVAL', script, '1', stream, String(from), String(count), String(maxLen)], {
    key: stream,
  });
}

/** Every event of every kind (and gaps), as [name, payload] in arrival order. */
export function record(events: QueueEvents): Array<[string, any]> {
  const seen: Array<[string, any]> = [];
  const names: Array<keyof QueueEventMap> = [
    'added',
    'active',
    'progress',
    'completed',
    'failed',
    'retrying',
    'dead',
    'removed',
    'cancelled',
    'stalled',
    'paused',
    'resumed',
    'gap',
  ];
  for (const name of names) events.on(name, (e: unknown) => seen.push([name, e]));
  return seen;
}

/** The job ids of recorded events. */
export function jobIds(seen: Array<[string, any]>): string[] {
  return seen.map(([, e]) => e.jobId as string);
}

/** CLIENT LIST of the node that owns `key`, as one record per client. */
async function clients(redis: RedisConnection, key: string): Promise<Array<Record<string, string>>> {
  const text = String(await redis.isolated(key, (client) => client.sendCommand(['CLIENT', 'LIST'])));
  return text
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2) as [string, string])));
}

/** Connections blocked in XREAD on the node of `key`. */
export async function xreadClients(redis: RedisConnection, key: string): Promise<number> {
  return (await clients(redis, key)).filter((c) => c.cmd === 'xread').length;
}

/** Kills the connections blocked in XREAD on the node of `key`; returns how many. */
export async function killReaders(redis: RedisConnection, key: string): Promise<number> {
  let killed = 0;
  for (const c of await clients(redis, key)) {
    if (c.cmd !== 'xread' || c.id === undefined) continue;
    killed += Number(
      await redis.isolated(key, (client) => client.sendCommand(['CLIENT', 'KILL', 'ID', c.id as string])),
    );
  }
  return killed;
}

/** Counts of the resources that keep the process alive, by type. */
export function liveResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** The resource types of which more are alive now than in `baseline`, polled for up to 2 s. */
export async function leftOver(baseline: Map<string, number>): Promise<string[]> {
  for (const until = performance.now() + 2_000; ; ) {
    const extra = [...liveResources()]
      .filter(([type, count]) => count > (baseline.get(type) ?? 0))
      .map(([type, count]) => `${type} +${count - (baseline.get(type) ?? 0)}`);
    if (extra.length === 0 || performance.now() > until) return extra;
    await sleep(50);
  }
}
