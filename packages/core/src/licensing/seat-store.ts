/**
 * Where live leases are kept. One lease set per license (session → expiry); every acquire first drops the
 * expired leases and adds the new one only while the live count is below max_seats, in one atomic step
 * (DESIGN.md §1). Two implementations run the same test suite: PostgreSQL (embedded default) and Redis (scaled).
 */
/** What the client sent with its acquire (validated by the contract's LeaseMetadata); `{}` when nothing. */
export type LeaseMetadata = Record<string, string | number>;

export interface Lease {
  sessionId: string;
  fingerprint: string;
  acquiredAtMs: number;
  expiresAtMs: number;
  metadata: LeaseMetadata;
}

export interface SeatRequest {
  tenantId: string;
  licenseId: string;
  sessionId: string;
  fingerprint: string;
  /** Kept with a new lease; a fingerprint's existing lease keeps the metadata it was acquired with. */
  metadata: LeaseMetadata;
  maxSeats: number;
  /** TTL + grace: how long the lease lives without a heartbeat. */
  lifetimeMs: number;
}

export type AcquireOutcome =
  | { kind: 'acquired'; lease: Lease; used: number; expired: Lease[] }
  /** The fingerprint already held a live lease: that lease is returned (and extended), no second seat. */
  | { kind: 'existing'; lease: Lease; used: number; expired: Lease[] }
  | { kind: 'exhausted'; used: number; expired: Lease[] };

export interface LicenseRef {
  tenantId: string;
  licenseId: string;
}

/** Acquires decided together, in one script or one database call: one license, one seat limit, one lifetime. */
export interface AcquireBatch {
  license: LicenseRef;
  maxSeats: number;
  lifetimeMs: number;
}

/** The batch an acquire joins (its TurnBatcher key and context); both seat stores group acquires this way. */
export function acquireBatchOf(request: SeatRequest): { key: string; batch: AcquireBatch } {
  return {
    key: `${request.maxSeats}/${request.lifetimeMs}/${request.licenseId}/${request.tenantId}`,
    batch: {
      license: { tenantId: request.tenantId, licenseId: request.licenseId },
      maxSeats: request.maxSeats,
      lifetimeMs: request.lifetimeMs,
    },
  };
}

export type StoreOperation = 'acquire' | 'heartbeat' | 'release' | 'sweep' | 'expire';

/**
 * Told how long each call to the store took (`atrium_seat_store_duration_seconds`). Acquires, heartbeats and
 * releases go in batches (TurnBatcher): a batch is one call, timed once, whatever number of requests it carries.
 */
export type StoreTiming = (store: SeatStore['name'], operation: StoreOperation, seconds: number) => void;

/** `work`, timed for `timing` when there is one. */
export async function timedCall<T>(
  timing: StoreTiming | undefined,
  store: SeatStore['name'],
  operation: StoreOperation,
  work: () => Promise<T>,
): Promise<T> {
  if (!timing) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    timing(store, operation, (performance.now() - started) / 1000);
  }
}

/** The TurnBatcher option that times each batch of one operation. */
export function batchTiming(timing: StoreTiming | undefined, store: SeatStore['name'], operation: StoreOperation) {
  return timing ? { onSent: (seconds: number) => timing(store, operation, seconds) } : {};
}

export interface SeatStore {
  readonly name: 'postgres' | 'redis';
  /**
   * True when the store writes acquired/released/expired into the lease journal itself, in the same transaction
   * (PostgreSQL). Otherwise the caller hands those events to the batched journal writer (Redis, ADR 0103).
   */
  readonly journalsItself: boolean;
  acquire(request: SeatRequest): Promise<AcquireOutcome>;
  /**
   * Extends a live lease and returns its new expiry (ms); null when it expired or was released (a heartbeat never
   * resurrects a lease). Only the expiry: the busiest call of all reads nothing else of the lease.
   */
  heartbeat(license: LicenseRef, sessionId: string, lifetimeMs: number): Promise<number | null>;
  /** Drops a lease; null when there was none (release is idempotent). */
  release(license: LicenseRef, sessionId: string): Promise<Lease | null>;
  /** Drops expired leases and returns the live ones: what status shows. */
  sweep(license: LicenseRef): Promise<{ live: Lease[]; expired: Lease[] }>;
  /**
   * Drops expired leases and counts the live ones, without reading them: what the reaper and the periodic sweep
   * call, as often as every few seconds, on licenses that may hold many thousands of leases.
   */
  expire(license: LicenseRef): Promise<{ expired: Lease[]; used: number }>;
  /** Forgets every lease of a deleted license. */
  forget(license: LicenseRef): Promise<void>;
  close(): Promise<void>;
}
