import { defineScript } from '@redis-patterns/connection';
import { lua } from './lua.generated.js';

/*
 * The session's Lua scripts, one per file in src/lua/ (shared functions in src/lua/lib/), called
 * from commands.ts. What each takes and returns is written at the top of its file.
 *
 * Layout (prefix `session:` by default):
 *   session:{<handle>}        HASH, one per session; <handle> = base64url(SHA-256(id)), never the id
 *     a  absolute expiry (ms, server clock)   r  last refresh (ms)      c  created at (ms)
 *     v  version, +1 per data write           u  user id (optional)
 *     d  the data: a JSON object mapping each top-level property to its serialized value, so a
 *        patch merges properties inside Redis (cjson) whatever the serializer
 *   a regenerated session's old key becomes a tombstone for a minute: HASH { m = new handle }
 *   session:{user:<userId>}   ZSET of the user's handles, score = the session's absolute expiry
 *
 * The key's TTL is always min(idleTtlMs, a - now) from the last refresh, so Redis frees a session
 * at its idle or absolute end, whichever comes first. A session key and its user's index are in
 * different Cluster slots; see commands.ts for the order of writes that keeps the index complete.
 * One data field rather than a field per property: a read is one HMGET of a few fields, not an
 * HGETALL of every property.
 */

/** get: the session and its refresh in one round trip (src/lua/read.lua). */
export const readScript = defineScript('sessionRead', lua.read);

/** Several gets of one store in one call, one TIME for all (src/lua/read-batch.lua). */
export const readBatchScript = defineScript('sessionReadBatch', lua.readBatch);

/** touch: the refresh alone, never recreating a session (src/lua/touch.lua). */
export const touchScript = defineScript('sessionTouch', lua.touch);

/** create: a new session hash, refused if the key exists (src/lua/create.lua). */
export const createScript = defineScript('sessionCreate', lua.create);

/** update: merges a patch into the data, or replaces it, inside Redis (src/lua/update.lua). */
export const updateScript = defineScript('sessionUpdate', lua.update);

/** regenerate, first half: the old session becomes a tombstone pointing to the new (src/lua/take.lua). */
export const takeScript = defineScript('sessionTake', lua.take);

/** destroy: deletes the session, says whose it was and where it moved (src/lua/destroy.lua). */
export const destroyScript = defineScript('sessionDestroy', lua.destroy);

/** Adds a handle to a user's index before the session is written (src/lua/index-add.lua). */
export const indexAddScript = defineScript('sessionIndexAdd', lua.indexAdd);

/** The live part of a user's index, pruned by score (src/lua/index-list.lua). */
export const indexListScript = defineScript('sessionIndexList', lua.indexList);

/** destroyAllForUser, first half: takes the handles out of the index (src/lua/index-take.lua). */
export const indexTakeScript = defineScript('sessionIndexTake', lua.indexTake);
