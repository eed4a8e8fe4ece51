import { toPublicId } from '@atrium/contracts';
import type { Tracer } from '@opentelemetry/api';
import { inChildSpan } from '../shared/tracing.ts';
import type { SeatStore } from './seat-store.ts';

/**
 * The seat store as a traced request sees it (ADR 0009): a call made inside a sampled span (a heartbeat's
 * excepted) is a span of its own, `seats <operation>`, and the active one while it runs, so the PostgreSQL store's
 * statements nest under it. Its duration is what the request waited for the store: with the Redis store, the
 * event-loop turn's batch and the script's round trip. Calls outside a sampled span (the reaper, the periodic
 * sweep, unsampled requests) go straight through.
 */
export function tracedSeatStore(store: SeatStore, tracer: Tracer): SeatStore {
  const call = <T>(operation: string, licenseId: string, work: () => Promise<T>): Promise<T> =>
    inChildSpan(
      tracer,
      `seats ${operation}`,
      { 'atrium.seat_store': store.name, 'atrium.license_id': toPublicId('license', licenseId) },
      work,
    );
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
