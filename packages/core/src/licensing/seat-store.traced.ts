import { toPublicId } from '@atrium/contracts';
import { context, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { SeatStore } from './seat-store.ts';

/**
 * The seat store as a traced request sees it (ADR 0009): a call made inside a sampled span (a heartbeat's
 * excepted) is a span of its own, `seats <operation>`, and the active one while it runs, so the PostgreSQL store's
 * statements nest under it. Its duration is what the request waited for the store: with the Redis store, the
 * event-loop turn's batch and the script's round trip. Calls outside a sampled span (the reaper, the periodic
 * sweep, unsampled requests) go straight through.
 */
export function tracedSeatStore(store: SeatStore, tracer: Tracer): SeatStore {
  const attributes = { 'atrium.seat_store': store.name };
  const call = <T>(operation: string, licenseId: string, work: () => Promise<T>): Promise<T> => {
    const active = context.active();
    if (!trace.getSpan(active)?.isRecording()) return work();
    const span = tracer.startSpan(`seats ${operation}`, {
      kind: SpanKind.INTERNAL,
      attributes: { ...attributes, 'atrium.license_id': toPublicId('license', licenseId) },
    });
    return context.with(trace.setSpan(active, span), work).then(
      (result) => {
        span.end();
        return result;
      },
      (err: unknown) => {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw err;
      },
    );
  };
  return {
    name: store.name,
    journalsItself: store.journalsItself,
    acquire: (request) => call('acquire', request.licenseId, () => store.acquire(request)),
    // Not a span of its own: a heartbeat request is its store call and little else, and a second span per heartbeat
    // doubled what tracing every request costs (bench/README.md, "Tracing").
    heartbeat: (license, sessionId, lifetimeMs) => store.heartbeat(license, sessionId, lifetimeMs),
    release: (license, sessionId) => call('release', license.licenseId, () => store.release(license, sessionId)),
    sweep: (license) => call('sweep', license.licenseId, () => store.sweep(license)),
    expire: (license) => call('expire', license.licenseId, () => store.expire(license)),
    forget: (license) => call('forget', license.licenseId, () => store.forget(license)),
    close: () => store.close(),
  };
}
