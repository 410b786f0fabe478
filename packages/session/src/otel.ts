/**
 * OpenTelemetry of the session store: a `session <op>` span per public call of the store, and of
 * the framework adapters' store methods (`session load`, `session save`, ...), when a tracer
 * records, and `redis_patterns.session.reads` for every read that slides the idle TTL (the store's
 * `get` and the framework adapters' reads alike). Session ids are bearer secrets: they never
 * go in an attribute. Without `@opentelemetry/api` installed, each costs one no-op call.
 */
import { createRequire } from 'node:module';
import {
  type TelemetryAttributes,
  type TelemetrySpan,
  telemetry,
  traceInspector,
} from '@redis-patterns/connection/internal';
import type { Loaded } from './codec.js';
import type { SessionInspector } from './inspect.js';
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

/** The framework an adapter serves. */
export type Adapter = 'express' | 'fastify';

const ADAPTER_OPERATIONS = ['load', 'save', 'touch', 'destroy', 'all', 'length', 'ids', 'clear'] as const;

/** What an adapter's store method does: `load` (the framework's get) and `save` (its set) included. */
export type AdapterOperation = (typeof ADAPTER_OPERATIONS)[number];

/** Per adapter and operation, built once: the span's name and its frozen attributes. */
const ADAPTER_SPANS = Object.fromEntries(
  (['express', 'fastify'] as const).map((adapter) => [
    adapter,
    Object.fromEntries(
      ADAPTER_OPERATIONS.map((operation) => [
        operation,
        {
          name: `session ${operation}`,
          attributes: Object.freeze({
            ...otel.operation(operation),
            'redis_patterns.session.adapter': adapter,
          }) as TelemetryAttributes,
        },
      ]),
    ),
  ]),
) as Record<Adapter, Record<AdapterOperation, { name: string; attributes: TelemetryAttributes }>>;

/**
 * `work` in a `session <operation>` span when a tracer records: a framework's store call, so a
 * request's session load and save show in its trace. A load marks whether a session was found.
 */
export function tracedAdapter<T>(adapter: Adapter, operation: AdapterOperation, work: () => Promise<T>) {
  const { name, attributes } = ADAPTER_SPANS[adapter][operation];
  return (): Promise<T> =>
    otel.span(name, attributes, (span) => {
      if (span === undefined || operation !== 'load') return work();
      return work().then((found) => {
        span.setAttribute('redis_patterns.session.found', found !== null);
        return found;
      });
    });
}

/** `inspector` with every call but `ping` and `close` in a `session inspect.<method>` span, without attributes of its arguments (handles and user ids). */
export function instrumentSessionInspector(inspector: SessionInspector): SessionInspector {
  return traceInspector(otel, 'session', inspector, [
    'listSessions',
    'listForUser',
    'get',
    'revoke',
    'revokeUser',
  ]);
}
