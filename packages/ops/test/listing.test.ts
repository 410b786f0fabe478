import { InvalidArgumentError } from '@redis-patterns/connection';
import { describe, expect, it } from 'vitest';
import { OperationError } from '../src/context.ts';
import { collect } from '../src/options.ts';

/** What scanPage throws when a cursor names a node that a failover demoted. */
const demoted = () =>
  new InvalidArgumentError('cursor', 'names 10.0.0.1:7000, no longer a master of this Cluster; list again.');

describe('collect', () => {
  it('reports a cursor refused mid-listing (a failover) as a failed operation, exit 1, not a usage error', async () => {
    const pages = [{ items: [1, 2], cursor: 'next' }];
    const cut = collect(
      async (cursor) => {
        if (cursor === undefined) return pages[0] as { items: number[]; cursor: string };
        throw demoted();
      },
      { limit: 10 },
    );
    await expect(cut).rejects.toBeInstanceOf(OperationError);
    await expect(cut).rejects.toThrow(/listing was cut short: cursor: names 10\.0\.0\.1:7000/);
  });

  it('leaves a bad cursor the user gave as the invalid argument it is (exit 2)', async () => {
    const given = collect(
      async () => {
        throw demoted();
      },
      { cursor: 'from-the-user', limit: 10 },
    );
    await expect(given).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
