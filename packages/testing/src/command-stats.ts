/** What `commandsRun` needs of a connection: a command sent to the server under test. */
export interface CommandSender {
  send<T>(args: string[]): Promise<T>;
}

/** Calls per command name so far, from `INFO commandstats` (a script's inner commands included). */
async function commandCalls(redis: CommandSender): Promise<Map<string, number>> {
  const info = await redis.send<string>(['INFO', 'commandstats']);
  return new Map(
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])]),
  );
}

/**
 * Runs `body` and returns the commands the server ran meanwhile, by name (only those that ran;
 * the INFO that read the counts is left out). Scripts count as `eval` or `evalsha`, and each
 * command a script ran counts under its own name. One server only: a Cluster node counts its own.
 *
 * @example
 * ```ts
 * const ran = await commandsRun(redis, () => store.get(id));
 * expect(ran).toEqual({ hmget: 1 });
 * ```
 */
export async function commandsRun(
  redis: CommandSender,
  body: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const before = await commandCalls(redis);
  await body();
  const after = await commandCalls(redis);
  after.set('info', (after.get('info') ?? 0) - 1);
  const ran: Record<string, number> = {};
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    if (delta > 0) ran[name] = delta;
  }
  return ran;
}

/** The scripts among `commandsRun`'s counts: EVAL the first time a connection sends one, EVALSHA after. */
export function scriptsIn(ran: Record<string, number>): number {
  return (ran.eval ?? 0) + (ran.evalsha ?? 0);
}
