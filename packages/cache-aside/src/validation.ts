import { InvalidArgumentError } from '@redis-patterns/connection';
import type { Engine, Found } from './entries.js';

/** One problem reported by a Standard Schema validator. */
export interface StandardIssue {
  /** What is wrong. */
  readonly message: string;
}

/** What a Standard Schema (v1) `validate` returns: the value (possibly transformed), or issues. */
export type StandardResult =
  | {
      /** The value to serve (possibly transformed by the schema). */
      readonly value: unknown;
      /** Absent when the value passed. */
      readonly issues?: undefined;
    }
  | {
      /** Why the value failed. */
      readonly issues: ReadonlyArray<StandardIssue>;
    };

/**
 * The part of the Standard Schema v1 interface the cache uses (Zod 3.24+, Valibot 1, ArkType 2 and
 * others implement it): no dependency needed, any object with `~standard.validate` works.
 */
export interface StandardSchemaLike {
  /** The Standard Schema entry point. */
  readonly '~standard': {
    /** The spec version (1). */
    readonly version: 1;
    /** Who made the schema library. */
    readonly vendor: string;
    /** Checks a value; the cache serves the returned `value` (a schema may transform it). */
    readonly validate: (value: unknown) => StandardResult | Promise<StandardResult>;
  };
}

/**
 * How the cache checks a value, read from Redis or just loaded: a function that returns `true` for a
 * usable value (`false` or a throw: not usable), or a Standard Schema object.
 */
export type ValueCheck = ((value: unknown) => boolean | Promise<boolean>) | StandardSchemaLike;

type Verdict = { ok: true; value: unknown } | { ok: false; reason: string };

/** A resolved {@link ValueCheck}: synchronous when the user's check is. */
export type Check = (value: unknown) => Verdict | Promise<Verdict>;

const refused = (err: unknown): Verdict => ({
  ok: false,
  reason: err instanceof Error ? err.message : String(err),
});

function fromStandard(result: StandardResult, value: unknown): Verdict {
  if (result.issues === undefined) return { ok: true, value: 'value' in result ? result.value : value };
  return { ok: false, reason: result.issues.map((i) => i.message).join('; ') || 'invalid' };
}

function fromBoolean(result: boolean): Verdict {
  return result === true ? { ok: true, value: undefined } : { ok: false, reason: 'the check returned false' };
}

/** Turns the `validate` option into a {@link Check}; InvalidArgumentError when it is neither form. */
export function resolveCheck(option: unknown): Check {
  const schema = (option as Partial<StandardSchemaLike> | null)?.['~standard'];
  if (typeof schema?.validate === 'function') {
    const validate = schema.validate.bind(schema);
    return (value) => {
      try {
        const result = validate(value);
        if (result instanceof Promise) {
          return result.then((r) => fromStandard(r, value), refused);
        }
        return fromStandard(result, value);
      } catch (err) {
        return refused(err);
      }
    };
  }
  if (typeof option !== 'function') {
    throw new InvalidArgumentError(
      'validate',
      'expected a function (value) => boolean or a Standard Schema object (with `~standard.validate`).',
    );
  }
  const fn = option as (value: unknown) => boolean | Promise<boolean>;
  const keep = (verdict: Verdict, value: unknown): Verdict => (verdict.ok ? { ok: true, value } : verdict);
  return (value) => {
    try {
      const result = fn(value);
      if (result instanceof Promise) return result.then((r) => keep(fromBoolean(r), value), refused);
      return keep(fromBoolean(result), value);
    } catch (err) {
      return refused(err);
    }
  };
}

/**
 * The entry if its value passes `check` (with the value the check returned), else undefined: an
 * invalid entry is a miss, counted in `stats().invalid` when `count`, and dropped from the near cache.
 */
export function usable(
  e: Engine,
  key: string,
  found: Found | undefined,
  check: Check | undefined,
  count = true,
): Found | undefined | Promise<Found | undefined> {
  if (found === undefined || check === undefined) return found;
  const settle = (verdict: Verdict): Found | undefined => {
    if (verdict.ok) return verdict.value === found.value ? found : { ...found, value: verdict.value };
    if (count) e.telemetry.counts.invalid++;
    e.near?.invalidate(e.store.entryKey(key));
    return undefined;
  };
  const verdict = check(found.value);
  return verdict instanceof Promise ? verdict.then(settle) : settle(verdict);
}

/**
 * The value to return for a value just loaded (or given to `set`): the check's output, or an
 * InvalidArgumentError naming the key, so nothing that fails the check is ever written.
 */
export async function checkLoaded(check: Check | undefined, key: string, value: unknown): Promise<unknown> {
  if (check === undefined) return value;
  const verdict = await check(value);
  if (verdict.ok) return verdict.value;
  throw new InvalidArgumentError(
    'value',
    `the value for key "${key}" fails \`validate\` (${verdict.reason}); nothing was cached. Fix the loader (or the value given to set) or the check.`,
  );
}
