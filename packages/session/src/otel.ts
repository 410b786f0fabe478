/**
 * OpenTelemetry of the session store: a `session <op>` span per public call of the store when a
 * tracer records, and `redis_patterns.session.reads` for every read that slides the idle TTL (the
 * store's `get` and the framework adapters' reads alike). Session ids are bearer secrets: they never
 * go in an attribute. Without `@opentelemetry/api` installed, each costs one no-op call.
 */
import { createRequire } from 'node:module';
import { type TelemetrySpan, telemetry } from '@redis-patterns/connection/internal';
import type { Loaded } from './codec.js';
import type { SessionStore } from './types.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
const otel = telemetry('@redis-patterns/session', version);

const reads = otel.counter('redis_patterns.session.reads', {
  description:
    'Session reads, by whether a session was found and whether the read wrote a refresh of its idle TTL.',
  unit: '{read}',
});

const MISSING = Object.freeze({ found: false, refreshed: false });
const REFRESHED = Object.freeze({ found: true, refreshed: true });
const SKIPPED = Object.freeze({ found: true, refreshed: false });

/** Counts one read by its outcome; returns it, so a decoder can count as it decodes. */
export function countRead(loaded: Loaded | null): Loaded | null {
  reads(1, loaded === null ? MISSING : loaded.refreshed ? REFRESHED : SKIPPED);
  return loaded;
}

type Operation = Exclude<
  keyof SessionStore<object>,
  'close' | 'idleTtlMs' | 'absoluteTtlMs' | 'touchAfterMs' | typeof Symbol.asyncDispose
>;

/** Runs `call` in the span of `operation`; when recording, marks whether a session was found. */
function traced<T>(operation: Operation, call: () => Promise<T>): Promise<T> {
  return otel.span(`session ${operation}`, otel.operation(operation), (span: TelemetrySpan | undefined) => {
    if (span === undefined) return call();
    return call().then((result) => {
      if (typeof result !== 'number' && !Array.isArray(result))
        span.setAttribute('redis_patterns.session.found', !!result);
      return result;
    });
  });
}

/** `store` with every public operation traced. */
export function instrumentStore<Data extends object>(store: SessionStore<Data>): SessionStore<Data> {
  return {
    ...store,
    create: (data, options) => traced('create', () => store.create(data, options)),
    get: (id) => traced('get', () => store.get(id)),
    touch: (id) => traced('touch', () => store.touch(id)),
    update: (id, change) => traced('update', () => store.update(id, change)),
    destroy: (id) => traced('destroy', () => store.destroy(id)),
    regenerate: (id, options) => traced('regenerate', () => store.regenerate(id, options)),
    listForUser: (userId) => traced('listForUser', () => store.listForUser(userId)),
    destroyAllForUser: (userId, options) =>
      traced('destroyAllForUser', () => store.destroyAllForUser(userId, options)),
    revoke: (handle) => traced('revoke', () => store.revoke(handle)),
  };
}
