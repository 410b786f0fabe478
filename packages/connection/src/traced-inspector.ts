import type { Telemetry } from './telemetry.js';

/**
 * `inspector` with each of `methods` run in a `<pattern> inspect.<method>` span (operation
 * `inspect.<method>`) when a tracer records, and every other member as it is. For the inspectors
 * whose spans record no argument: their arguments are identifiers, handles and user ids.
 */
export function traceInspector<T extends object>(
  otel: Telemetry,
  pattern: string,
  inspector: T,
  methods: readonly (keyof T & string)[],
): T {
  const traced: Record<string | symbol, unknown> = { ...(inspector as Record<string | symbol, unknown>) };
  for (const method of methods) {
    const call = inspector[method] as (...args: unknown[]) => Promise<unknown>;
    const operation = `inspect.${method}`;
    traced[method] = (...args: unknown[]) =>
      otel.span(`${pattern} ${operation}`, otel.operation(operation), () => call.apply(inspector, args));
  }
  return traced as T;
}
