import { defineScript } from '@redis-patterns/connection';
import { lua } from './lua.generated.js';

// The lock's Lua scripts. What each takes and returns is written at the top of its file in src/lua/.

/** Acquisition attempts, one or many in one call (src/lua/attempt.lua). */
export const attemptScript = defineScript('lockAttempt', lua.attempt);

/** Deletes the lock if its owner still holds it, and wakes the waiters (src/lua/release-if-owner.lua). */
export const releaseIfOwnerScript = defineScript('lockReleaseIfOwner', lua.releaseIfOwner);

/** Deletes the lock whoever holds it, and wakes the waiters (src/lua/force-release.lua). */
export const forceReleaseScript = defineScript('lockForceRelease', lua.forceRelease);

/** One attempt in strict FIFO order, `fair: true` (src/lua/fair-attempt.lua). */
export const fairAttemptScript = defineScript('lockFairAttempt', lua.fairAttempt);

/** A fair waiter gives up its place (src/lua/fair-leave.lua). */
export const fairLeaveScript = defineScript('lockFairLeave', lua.fairLeave);
