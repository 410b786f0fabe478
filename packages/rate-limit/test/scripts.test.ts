import { describe, expect, it } from 'vitest';
import { EPOCH_SECONDS } from '../src/algorithms.ts';
import { batchScripts, singleScripts } from '../src/commands.ts';
import { scripts } from '../src/lua.generated.ts';

// The Lua counts time from a literal epoch (src/lua/lib/clock.lua, and in ms in lib/expires-at.lua);
// decide.ts turns the server time the scripts reply with back into a date with EPOCH_SECONDS.
describe('the epoch of the Lua scripts', () => {
  const timed = [...Object.values(singleScripts), ...Object.values(batchScripts), scripts.all];

  it('is EPOCH_SECONDS in every script that reads the clock', () => {
    expect(timed).toHaveLength(9);
    for (const script of timed) {
      const epoch = script.source.match(/^local now = \(t\[1\] - (\d+)\) \* 1000000 \+ t\[2\]$/m);
      expect(epoch?.[1], script.name).toBe(String(EPOCH_SECONDS));
    }
  });

  it('is EPOCH_SECONDS in ms in expiresAt', () => {
    const sources = Object.values(scripts)
      .map((script) => script.source)
      .filter((source) => source.includes('function expiresAt'));
    // log, counter, fixed: single, batch, and the multi-limit script (GCRA does without).
    expect(sources).toHaveLength(7);
    for (const source of sources) {
      const epochMs = source.match(/function expiresAt\(us\) return string\.format\('%d', (\d+) \+/);
      expect(epochMs?.[1]).toBe(String(EPOCH_SECONDS * 1000));
    }
  });
});
