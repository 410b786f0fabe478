import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` every `intervalMs` until it resolves a value other than undefined, and resolves that.
 * A probe that throws (a node still down) counts as "not yet". At `deadline` (epoch ms) it throws
 * with what the probe last reported through `saw`, so a timeout on a loaded machine says which
 * node was in which state.
 */
export async function pollUntil<T>(
  what: string,
  deadline: number,
  probe: (saw: (seen: string) => void) => Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  const start = Date.now();
  let seen = '(no probe reported anything)';
  let failure = '';
  const saw = (text: string) => {
    seen = text;
  };
  for (;;) {
    try {
      const value = await probe(saw);
      if (value !== undefined) return value;
      failure = '';
    } catch (error) {
      failure = `\nLast probe failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Gave up waiting for ${what} after ${Date.now() - start} ms. Last seen:\n${seen}${failure}`,
      );
    }
    await sleep(Math.max(0, Math.min(intervalMs, deadline - Date.now())));
  }
}
