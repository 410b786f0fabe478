import { describe, expect, it } from 'vitest';
import { type CommandDeadline, DeadlineSweeper } from '../src/deadline.ts';
import { TimeoutError } from '../src/errors.ts';

const never = () => new Promise<never>(() => {});

describe('DeadlineSweeper', () => {
  it('rejects each wait after its bound and before the bound plus one tick', async () => {
    const sweeper = new DeadlineSweeper(32);
    const bounds = [40, 95, 130, 201, 333, 450];
    const late = await Promise.all(
      bounds.map(async (bound) => {
        const started = performance.now();
        const error = await sweeper.track(never(), bound, 'probe').catch((err: unknown) => err);
        expect(error).toBeInstanceOf(TimeoutError);
        return performance.now() - started - bound;
      }),
    );
    for (const ms of late) {
      expect(ms).toBeGreaterThanOrEqual(-1);
      // One tick, plus a little for a busy event loop.
      expect(ms).toBeLessThan(32 + 15);
    }
    sweeper.stop();
  });

  it('aborts the deadline handed to the command before the caller hears of the failure', async () => {
    const sweeper = new DeadlineSweeper(8);
    let seen: CommandDeadline | undefined;
    let abortedFirst = false;
    const dropped: string[] = [];
    const error = await sweeper
      .run(30, 'probe', undefined, (deadline) => {
        seen = deadline;
        deadline.addEventListener('abort', () => dropped.push('unwritten command'));
        return never();
      })
      .catch((err: unknown) => {
        abortedFirst = seen?.aborted === true;
        return err;
      });
    expect(error).toBeInstanceOf(TimeoutError);
    expect(abortedFirst).toBe(true);
    expect(dropped).toEqual(['unwritten command']);
    sweeper.stop();
  });

  it('settles with the command and forgets its deadline', async () => {
    const sweeper = new DeadlineSweeper(8);
    let deadline: CommandDeadline | undefined;
    const value = await sweeper.run(1_000, 'probe', 'k', (d) => {
      deadline = d;
      return Promise.resolve('ok');
    });
    expect(value).toBe('ok');
    expect(sweeper.size).toBe(0);
    expect(deadline?.aborted).toBe(false);
    sweeper.stop();
  });
});
