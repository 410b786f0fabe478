import type { RedisConnection } from '@redis-patterns/connection';

/** One pattern's part of the demo: runs against `redis`, prints plain words, throws if the outcome is wrong. */
export interface DemoScenario {
  name: string;
  title: string;
  run(ctx: { redis: RedisConnection; url: string; log: (line: string) => void }): Promise<void>;
}

/** Throws with `message` unless `condition` holds: the demo checks its own outcomes. */
export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
