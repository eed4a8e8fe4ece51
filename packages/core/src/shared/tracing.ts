import { type Attributes, context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';

/**
 * `work` in a child span of the active, sampled span (ADR 0009): the child is active while it runs, so what `work`
 * does nests under it, and it is marked failed when `work` rejects; `work` gets the span to add what it learns.
 * Without a tracer, or outside a sampled span (background work, an unsampled request), it is just `work(null)`.
 */
export function inChildSpan<T>(
  tracer: Tracer | null | undefined,
  name: string,
  attributes: Attributes,
  work: (span: Span | null) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  const active = context.active();
  if (!tracer || !trace.getSpan(active)?.isRecording()) return work(null);
  const span = tracer.startSpan(name, { attributes, kind }, active);
  return context.with(trace.setSpan(active, span), work, undefined, span).then(
    (result) => {
      span.end();
      return result;
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      span.recordException(err instanceof Error ? err : message);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      span.end();
      throw err;
    },
  );
}
