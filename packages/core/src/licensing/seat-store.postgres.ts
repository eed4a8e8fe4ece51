import { newUuid } from '@atrium/contracts';
import { type Pool, type Tx, tenantStatementInOneRoundTrip, uuidLiteral, withTenant } from '@atrium/db';
import pg from 'pg';
import { TurnBatcher } from '../shared/turn-batcher.ts';
import { insertJournalEntries, type JournalEntry } from './journal.repository.ts';
import {
  type AcquireBatch,
  type AcquireOutcome,
  acquireBatchOf,
  batchTiming,
  type Lease,
  type LeaseMetadata,
  type LicenseRef,
  type SeatRequest,
  type SeatStore,
  type StoreTiming,
  timedCall,
} from './seat-store.ts';

interface LeaseRow {
  session_id: string;
  fingerprint: string;
  acquired_at: Date;
  expires_at: Date;
  metadata: LeaseMetadata | null;
}

interface AcquireRow {
  ord: number;
  kind: 'acquired' | 'existing' | 'exhausted';
  session_id: string | null;
  fingerprint: string | null;
  acquired_at: Date | null;
  expires_at: Date | null;
  metadata: LeaseMetadata | null;
  used: number;
  expired: Array<{
    session_id: string;
    fingerprint: string;
    acquired_at: string;
    expires_at: string;
    metadata?: LeaseMetadata | null;
  }>;
}

const leaseColumns = 'session_id, fingerprint, acquired_at, expires_at, metadata';

export interface Beat {
  licenseId: string;
  sessionId: string;
  lifetimeMs: number;
}

/** Heartbeats or releases in one statement at most: it stays small even when thousands arrive in one turn. */
const maxRowsPerStatement = 500;
/** Acquires decided by one call at most: the license's row lock is held while they are. */
const maxAcquiresPerCall = 200;

/**
 * A heartbeat or release finds each lease by the primary key, (tenant_id, session_id), and checks its license as a
 * filter on the row found. Written as a plain `l.license_id = b.license_id`, the check is also an index condition
 * for license_leases_fingerprint_key, (tenant_id, license_id, fingerprint); while the table has no statistics yet
 * (a new install, or minutes after a burst of acquires) the planner costs both indexes alike and took that one,
 * then read the license's whole lease set for each heartbeat: 7 ms per lease at 31,000 leases, releases down from
 * 11,000/s to 300/s in the bench. `is true` keeps the check out of any index (seat-stores.test.ts reads the plans).
 */
const sameLicense = '(l.license_id = b.license_id) is true';

/** Extends the live leases among `beats` (one organization's), each by its lifetime; returns those renewed. */
export function heartbeatStatement(tenantId: string, beats: Beat[]): string {
  // uuidLiteral refuses anything but a UUID; lifetimes are checked integers.
  const values = beats
    .map((beat) => `(${uuidLiteral(beat.licenseId)}::uuid, ${uuidLiteral(beat.sessionId)}::uuid, ${beat.lifetimeMs})`)
    .join(', ');
  return `update license_leases l set expires_at = clock_timestamp() + b.lifetime_ms * interval '1 millisecond'
    from (values ${values}) as b(license_id, session_id, lifetime_ms)
    where l.tenant_id = ${uuidLiteral(tenantId)} and l.session_id = b.session_id and ${sameLicense}
      and l.expires_at > clock_timestamp()
    returning l.license_id, l.session_id, l.expires_at`;
}

/** Deletes the leases among `releases` (one organization's) and journals each; returns the leases deleted. */
export function releaseStatement(tenantId: string, releases: Array<{ licenseId: string; sessionId: string }>): string {
  // One row per lease (the same session released twice in one turn is asked for once). uuidLiteral refuses
  // anything but a UUID; journal ids are made here, UUIDv7 like every other journal row.
  const unique = new Map(releases.map((release) => [`${release.licenseId}/${release.sessionId}`, release]));
  const values = [...unique.values()]
    .map(
      (release) =>
        `(${uuidLiteral(release.licenseId)}::uuid, ${uuidLiteral(release.sessionId)}::uuid, ${uuidLiteral(newUuid())}::uuid)`,
    )
    .join(', ');
  const tenant = uuidLiteral(tenantId);
  return `with b (license_id, session_id, journal_id) as (values ${values}),
    gone as (
      delete from license_leases l using b
      where l.tenant_id = ${tenant} and l.session_id = b.session_id and ${sameLicense}
      returning l.license_id, l.session_id, l.fingerprint, l.acquired_at, l.expires_at, l.metadata, b.journal_id
    ),
    journaled as (
      insert into license_journal (tenant_id, id, license_id, session_id, fingerprint, event, occurred_at)
      select ${tenant}, journal_id, license_id, session_id, fingerprint,
        case when expires_at <= clock_timestamp() then 'expired' else 'released' end,
        least(clock_timestamp(), expires_at)
      from gone
    )
    select license_id, ${leaseColumns} from gone`;
}

function toLease(row: LeaseRow): Lease {
  return {
    sessionId: row.session_id,
    fingerprint: row.fingerprint,
    acquiredAtMs: row.acquired_at.getTime(),
    expiresAtMs: row.expires_at.getTime(),
    metadata: row.metadata ?? {},
  };
}

/** Release and expiry entries; the acquire's entry, the one that carries metadata, is written by the migration's function. */
function journal(licenseId: string, event: JournalEntry['event'], lease: Lease, atMs: number): JournalEntry {
  return {
    licenseId,
    sessionId: lease.sessionId,
    fingerprint: lease.fingerprint,
    event,
    occurredAtMs: atMs,
    metadata: null,
  };
}

/**
 * Seats in PostgreSQL: acquires take the license row's lock in a transaction, so acquires of one license are
 * decided one at a time across every API process, while other licenses proceed in parallel. The lock is taken
 * inside one server-side function, so it is held for the function's run and commit, not for client round trips.
 * Expiry, acquire and release are journaled in the same transaction. Time is the database's clock_timestamp(),
 * so several API processes agree on it.
 */
export class PostgresSeatStore implements SeatStore {
  readonly name = 'postgres';
  readonly journalsItself = true;
  private readonly pool: Pool;
  /** Acquires of one turn of the event loop, per license, seat limit and lifetime (see `acquire`). */
  private readonly acquires: TurnBatcher<AcquireBatch, SeatRequest, AcquireOutcome>;
  /** Releases of one turn of the event loop, per organization (see `release`). */
  private readonly releases: TurnBatcher<string, { licenseId: string; sessionId: string }, Lease | null>;
  /** Heartbeats of one turn of the event loop, per organization (see `heartbeat`). */
  private readonly beats: TurnBatcher<string, Beat, number | null>;
  private readonly timing: StoreTiming | undefined;

  /** `timing` is told how long each call (each batch) took (Default: nobody). */
  constructor(pool: Pool, options: { timing?: StoreTiming } = {}) {
    this.pool = pool;
    this.timing = options.timing;
    this.acquires = new TurnBatcher((batch, requests) => this.sendAcquires(batch, requests), {
      maxBatch: maxAcquiresPerCall,
      oneInFlightPerKey: true,
      ...batchTiming(this.timing, this.name, 'acquire'),
    });
    this.releases = new TurnBatcher((tenantId, releases) => this.sendReleases(tenantId, releases), {
      maxBatch: maxRowsPerStatement,
      ...batchTiming(this.timing, this.name, 'release'),
    });
    this.beats = new TurnBatcher((tenantId, beats) => this.sendBeats(tenantId, beats), {
      maxBatch: maxRowsPerStatement,
      ...batchTiming(this.timing, this.name, 'heartbeat'),
    });
  }

  /**
   * Acquires of one license are decided together by one call of license_seat_acquire_batch (migration 0008),
   * one after the other in arrival order, as separate calls would be: the row lock, the sweep, the count of the
   * lease set and the commit's WAL flush are paid once for all of them. One batch per license is in flight at a
   * time; what arrives meanwhile waits and goes in the next one (a group commit), since batches sent side by side
   * would only queue for the lock. The whole transaction is one message (BEGIN, the tenant, the call, COMMIT), so
   * the lock is held for the server-side run and the flush only. With one lock and one flush per acquire, a hot
   * license managed a few hundred acquires per second (bench/README.md).
   */
  acquire(request: SeatRequest): Promise<AcquireOutcome> {
    if (!Number.isInteger(request.maxSeats) || !Number.isInteger(request.lifetimeMs)) {
      return Promise.reject(new Error('maxSeats and lifetimeMs must be integers'));
    }
    const { key, batch } = acquireBatchOf(request);
    return this.acquires.add(key, batch, request);
  }

  private async sendAcquires(batch: AcquireBatch, requests: SeatRequest[]): Promise<AcquireOutcome[]> {
    // Session ids are cast to uuid by the function; everything else travels as one escaped JSON literal.
    const payload = JSON.stringify(
      requests.map((request) => ({ s: request.sessionId, f: request.fingerprint, m: request.metadata })),
    );
    const { tenantId, licenseId } = batch.license;
    const rows = await tenantStatementInOneRoundTrip<AcquireRow>(
      this.pool,
      tenantId,
      `select * from license_seat_acquire_batch(${uuidLiteral(tenantId)}, ${uuidLiteral(licenseId)},
         ${batch.maxSeats}, ${batch.lifetimeMs}, ${pg.escapeLiteral(payload)}::jsonb) order by ord`,
    );
    return rows.map((row) => {
      const expired = row.expired.map((lease) => ({
        sessionId: lease.session_id,
        fingerprint: lease.fingerprint,
        acquiredAtMs: Date.parse(lease.acquired_at),
        expiresAtMs: Date.parse(lease.expires_at),
        metadata: lease.metadata ?? {},
      }));
      if (row.kind === 'exhausted') return { kind: 'exhausted', used: row.used, expired };
      return { kind: row.kind, lease: toLease(row as LeaseRow), used: row.used, expired };
    });
  }

  /**
   * The busiest call of all. Heartbeats that arrive in the same turn of the event loop are sent together, one
   * UPDATE per organization for all of them, as one message (BEGIN, the tenant, the UPDATE, COMMIT), like Redis
   * commands are pipelined: with many clients that is one round trip and one backend wake-up for many heartbeats
   * instead of one each. The commit does not wait for fsync — a heartbeat lost in a database crash only leaves
   * the earlier expiry in place.
   */
  heartbeat(license: LicenseRef, sessionId: string, lifetimeMs: number): Promise<number | null> {
    if (!Number.isInteger(lifetimeMs)) return Promise.reject(new Error('lifetimeMs must be an integer'));
    return this.beats.add(license.tenantId, license.tenantId, {
      licenseId: license.licenseId,
      sessionId,
      lifetimeMs,
    });
  }

  private async sendBeats(tenantId: string, beats: Beat[]): Promise<Array<number | null>> {
    const rows = await tenantStatementInOneRoundTrip<{ license_id: string; session_id: string; expires_at: Date }>(
      this.pool,
      tenantId,
      heartbeatStatement(tenantId, beats),
      { asyncCommit: true },
    );
    const renewed = new Map(rows.map((row) => [`${row.license_id}/${row.session_id}`, row.expires_at.getTime()]));
    return beats.map((beat) => renewed.get(`${beat.licenseId}/${beat.sessionId}`) ?? null);
  }

  /**
   * Releases of one organization in one event-loop turn go as one statement in one message, like heartbeats:
   * the leases are deleted and their journal rows written by the same statement, in one transaction. A lease
   * released after its expiry (but before anyone swept it) is journaled as expired, at its expiry.
   */
  release(license: LicenseRef, sessionId: string): Promise<Lease | null> {
    return this.releases.add(license.tenantId, license.tenantId, { licenseId: license.licenseId, sessionId });
  }

  private async sendReleases(tenantId: string, releases: Array<{ licenseId: string; sessionId: string }>) {
    const rows = await tenantStatementInOneRoundTrip<LeaseRow & { license_id: string }>(
      this.pool,
      tenantId,
      releaseStatement(tenantId, releases),
    );
    const released = new Map(rows.map((row) => [`${row.license_id}/${row.session_id}`, toLease(row)]));
    // The same session twice in one turn: the first release gets the lease, the second finds none.
    return releases.map((release) => {
      const key = `${release.licenseId}/${release.sessionId}`;
      const lease = released.get(key) ?? null;
      released.delete(key);
      return lease;
    });
  }

  sweep(license: LicenseRef): Promise<{ live: Lease[]; expired: Lease[] }> {
    return timedCall(this.timing, this.name, 'sweep', () =>
      withTenant(this.pool, license.tenantId, async (tx) => {
        const expired = await dropExpired(tx, license);
        const { rows } = await tx.query<LeaseRow>(
          `select ${leaseColumns} from license_leases where tenant_id = $1 and license_id = $2 order by acquired_at`,
          [license.tenantId, license.licenseId],
        );
        return { live: rows.map(toLease), expired };
      }),
    );
  }

  expire(license: LicenseRef): Promise<{ expired: Lease[]; used: number }> {
    return timedCall(this.timing, this.name, 'expire', () =>
      withTenant(this.pool, license.tenantId, async (tx) => {
        const expired = await dropExpired(tx, license);
        const { rows } = await tx.query<{ used: number }>(
          'select count(*)::int as used from license_leases where tenant_id = $1 and license_id = $2',
          [license.tenantId, license.licenseId],
        );
        return { expired, used: rows[0]?.used ?? 0 };
      }),
    );
  }

  async forget(license: LicenseRef): Promise<void> {
    // The leases go with the license row (foreign key, on delete cascade).
    void license;
  }

  async close(): Promise<void> {}
}

/** Deletes the license's expired leases and journals their expiry, in the caller's transaction. */
async function dropExpired(tx: Tx, license: LicenseRef): Promise<Lease[]> {
  const { rows } = await tx.query<LeaseRow>(
    `delete from license_leases where tenant_id = $1 and license_id = $2 and expires_at <= clock_timestamp()
     returning ${leaseColumns}`,
    [license.tenantId, license.licenseId],
  );
  const expired = rows.map(toLease);
  await insertJournalEntries(
    tx,
    license.tenantId,
    expired.map((lease) => journal(license.licenseId, 'expired', lease, lease.expiresAtMs)),
  );
  return expired;
}
