import { defineScript, type Script } from '@redis-patterns/connection';
import type { AlgorithmArgs } from './algorithms.js';
import { lua } from './lua.generated.js';

// The rate limiter's Lua scripts. What each takes and returns is written at the top of its file in
// src/lua/; the four algorithms, and what the scripts share, are in src/lua/lib/.
//
// Every check is ONE script, so a check and its write can never interleave with another caller's
// (the race that lets a burst through check-then-add limiters), and several limits of one identifier
// are all checked before any is charged (no partial consumption). Time is the server's (TIME), so
// callers' clocks never matter.

/**
 * The scripts count time in microseconds since this epoch (2020-01-01T00:00:00Z) rather than since
 * 1970: the smaller numbers keep a double's resolution near 0.03 µs, so GCRA arrival times that add
 * a fractional emission interval again and again stay exact to well under a microsecond. It is a
 * whole number of days, so counter windows that divide a day start on UTC boundaries.
 *
 * The Lua has it as a literal (src/lua/lib/clock.lua, and in ms in lib/expires-at.lua); a test
 * checks that they agree.
 */
export const EPOCH_SECONDS = 1_577_836_800;

/** The single-limit script of each algorithm (src/lua/log.lua, counter.lua, fixed.lua, gcra.lua). */
export const singleScripts: Record<AlgorithmArgs['code'], Script> = {
  L: defineScript('rateLimit:log', lua.log),
  C: defineScript('rateLimit:counter', lua.counter),
  F: defineScript('rateLimit:fixed', lua.fixed),
  G: defineScript('rateLimit:gcra', lua.gcra),
};

/** The batch script of each algorithm: many single-limit checks in one call (src/lua/*-batch.lua). */
export const batchScripts: Record<AlgorithmArgs['code'], Script> = {
  L: defineScript('rateLimit:log:batch', lua.logBatch),
  C: defineScript('rateLimit:counter:batch', lua.counterBatch),
  F: defineScript('rateLimit:fixed:batch', lua.fixedBatch),
  G: defineScript('rateLimit:gcra:batch', lua.gcraBatch),
};

/** Several limits of one identifier, all checked before any is charged (src/lua/all.lua). */
export const multiScript = defineScript('rateLimit:all', lua.all);

/** Deletes every limit's key of one identifier (src/lua/reset.lua). */
export const resetScript = defineScript('rateLimit:reset', lua.reset);
