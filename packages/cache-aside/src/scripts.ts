import { defineScript } from '@redis-patterns/connection';
import { lua } from './lua.generated.js';

// The cache's Lua scripts. What each takes and returns is written at the top of its file in src/lua/.

/** The leader's write, only while it still holds the lease (src/lua/commit-load.lua). */
export const commitLoad = defineScript('cacheCommitLoad', lua.commitLoad);

/** An explicit write, which also drops the lease (src/lua/write-entry.lua). */
export const writeEntry = defineScript('cacheWriteEntry', lua.writeEntry);

/** Extends the load lease if the caller still holds it (src/lua/extend-lease.lua). */
export const extendLease = defineScript('cacheExtendLease', lua.extendLease);

/** Gives the load lease back if the caller still holds it (src/lua/release-lease.lua). */
export const releaseLease = defineScript('cacheReleaseLease', lua.releaseLease);

/** Each tag's version, created if missing, the tag key kept alive (src/lua/ensure-tags.lua). */
export const ensureTags = defineScript('cacheEnsureTags', lua.ensureTags);
