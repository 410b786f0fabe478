/**
 * Building blocks the redis-patterns packages share: batching of script calls, telemetry, the checks of
 * options, and the resumable SCAN page of the inspectors. Not part of the public API of `@redis-patterns/connection`: they may change in any
 * release. Import them as `@redis-patterns/connection/internal`.
 *
 * @packageDocumentation
 */
export { packByTag, TickBatcher, type TickBatcherOptions } from './batch.js';
export { onceClosed } from './clients.js';
export {
  checkBoolean,
  checkCommandOptions,
  checkDuration,
  checkInteger,
  checkOptions,
  checkRenamed,
  describeValue,
} from './options.js';
export { checkPage, DEFAULT_PAGE, type KeyPage, MAX_PAGE, scanPage } from './scan-page.js';
export { type ScriptBatch, ScriptBatcher } from './script-batcher.js';
export { checkSerializer, serializeText } from './serializer.js';
export { closeSubscriber, openSubscriber } from './subscriber.js';
export {
  errorType,
  type InstrumentOptions,
  type RecordValue,
  type RemoteSpan,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetrySpan,
  type TelemetrySpanKind,
  type TraceCarrier,
  telemetry,
} from './telemetry.js';
export { traceInspector } from './traced-inspector.js';
