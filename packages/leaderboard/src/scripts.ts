import { defineScript } from '@redis-patterns/connection';
import { lua } from './lua.generated.js';

// The leaderboard's Lua scripts. What each takes and returns is written at the top of its file in
// src/lua/; the board's keys, its stored scores and the arguments every script shares are
// explained in src/lua/lib/keys.lua.

/** submit / increment / submitMany: scores, data, distinct index, keepTop and TTLs in one step (src/lua/write.lua). */
export const writeScript = defineScript('leaderboardWrite', lua.write);

/** remove (src/lua/remove.lua). */
export const removeScript = defineScript('leaderboardRemove', lua.remove);

/** rank / entry / rankedList / percentile (src/lua/lookup.lua). */
export const lookupScript = defineScript('leaderboardLookup', lua.lookup);

/** top / page / iterate (src/lua/range.lua). */
export const rangeScript = defineScript('leaderboardRange', lua.range);

/** around: the member's window, its ranks and data in one round trip (src/lua/around.lua). */
export const aroundScript = defineScript('leaderboardAround', lua.around);

/** around on an ordinal board without member data, with no helper functions (src/lua/around-plain.lua). */
export const aroundPlainScript = defineScript('leaderboardAroundPlain', lua.aroundPlain);

/** Several plain arounds of one board in one call (src/lua/around-plain-batch.lua). */
export const aroundPlainBatchScript = defineScript('leaderboardAroundPlainBatch', lua.aroundPlainBatch);

/** scoreRange (src/lua/score-range.lua). */
export const scoreRangeScript = defineScript('leaderboardScoreRange', lua.scoreRange);

/** atRank: the first entry holding a rank under the tie rule (src/lua/at-rank.lua). */
export const atRankScript = defineScript('leaderboardAtRank', lua.atRank);

/** The aggregate of periodic boards' cycles into one board (src/lua/aggregate.lua). */
export const aggregateScript = defineScript('leaderboardAggregate', lua.aggregate);
