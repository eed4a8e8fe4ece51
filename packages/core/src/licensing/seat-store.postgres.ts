import { type Pool, type Tx, withTenant } from '@atrium/db';
import { insertJournalEntries, type JournalEntry } from './journal.repository.ts';
import type { AcquireOutcome, Lease, LicenseRef, SeatRequest, SeatStore } from './seat-store.ts';

interface LeaseRow {
  session_id: string;
  fingerprint: string;
  acquired_at: Date;
  expires_at: Date;
}

const leaseColumns = 'session_id, fingerprint, acquired_at, expires_at';

function toLease(row: LeaseRow): Lease {
  return {
    sessionId: row.session_id,
    fingerprint: row.fingerprint,
    acquiredAtMs: row.acquired_at.getTime(),
    expiresAtMs: row.expires_at.getTime(),
  };
}

function journal(licenseId: string, event: JournalEntry['event'], lease: Lease, atMs: number): JournalEntry {
  return { licenseId, sessionId: lease.sessionId, fingerprint: lease.fingerprint, event, occurredAtMs: atMs };
}

/**
 * Seats in PostgreSQL: each acquire is one transaction that takes the license row's lock, so acquires of one
 * license run one at a time on every API process, while other licenses proceed in parallel. Expiry, acquire and
 * release are journaled in the same transaction. Time is the database's clock_timestamp(), so several API
 * processes agree on it.
 */
export class PostgresSeatStore implements SeatStore {
  readonly name = 'postgres';
  readonly journalsItself = true;
  private readonly pool: Pool;

  constructor(pool: Pool) {
    this.pool = pool;
  }

  acquire(request: SeatRequest): Promise<AcquireOutcome> {
    const { tenantId, licenseId } = request;
    return withTenant(this.pool, tenantId, async (tx) => {
      const locked = await tx.query('select 1 from licenses where tenant_id = $1 and id = $2 for update', [
        tenantId,
        licenseId,
      ]);
      if (locked.rowCount !== 1) throw new Error(`license ${licenseId} vanished during acquire`);
      const expired = await dropExpired(tx, tenantId, licenseId);
      const entries = expired.map((lease) => journal(licenseId, 'expired', lease, lease.expiresAtMs));
      const renewed = await tx.query<LeaseRow>(
        `update license_leases set expires_at = clock_timestamp() + $4 * interval '1 millisecond'
         where tenant_id = $1 and license_id = $2 and fingerprint = $3 returning ${leaseColumns}`,
        [tenantId, licenseId, request.fingerprint, request.lifetimeMs],
      );
      const used = await countLeases(tx, tenantId, licenseId);
      const existing = renewed.rows[0];
      if (existing) {
        await insertJournalEntries(tx, tenantId, entries);
        return { kind: 'existing', lease: toLease(existing), used, expired };
      }
      if (used >= request.maxSeats) {
        await insertJournalEntries(tx, tenantId, entries);
        return { kind: 'exhausted', used, expired };
      }
      const { rows } = await tx.query<LeaseRow>(
        `insert into license_leases (tenant_id, session_id, license_id, fingerprint, acquired_at, expires_at)
         values ($1, $2, $3, $4, clock_timestamp(), clock_timestamp() + $5 * interval '1 millisecond')
         returning ${leaseColumns}`,
        [tenantId, request.sessionId, licenseId, request.fingerprint, request.lifetimeMs],
      );
      const lease = toLease(rows[0] as LeaseRow);
      entries.push(journal(licenseId, 'acquired', lease, lease.acquiredAtMs));
      await insertJournalEntries(tx, tenantId, entries);
      return { kind: 'acquired', lease, used: used + 1, expired };
    });
  }

  async heartbeat(license: LicenseRef, sessionId: string, lifetimeMs: number): Promise<Lease | null> {
    const { rows } = await withTenant(this.pool, license.tenantId, (tx) =>
      tx.query<LeaseRow>(
        `update license_leases set expires_at = clock_timestamp() + $4 * interval '1 millisecond'
         where tenant_id = $1 and license_id = $2 and session_id = $3 and expires_at > clock_timestamp()
         returning ${leaseColumns}`,
        [license.tenantId, license.licenseId, sessionId, lifetimeMs],
      ),
    );
    return rows[0] ? toLease(rows[0]) : null;
  }

  release(license: LicenseRef, sessionId: string): Promise<Lease | null> {
    return withTenant(this.pool, license.tenantId, async (tx) => {
      const { rows } = await tx.query<LeaseRow & { now: Date }>(
        `delete from license_leases where tenant_id = $1 and license_id = $2 and session_id = $3
         returning ${leaseColumns}, clock_timestamp() as now`,
        [license.tenantId, license.licenseId, sessionId],
      );
      const row = rows[0];
      if (!row) return null;
      const lease = toLease(row);
      // A lease released after its expiry (but before anyone swept it) ended when it expired.
      const event = lease.expiresAtMs <= row.now.getTime() ? 'expired' : 'released';
      const at = Math.min(row.now.getTime(), lease.expiresAtMs);
      await insertJournalEntries(tx, license.tenantId, [journal(license.licenseId, event, lease, at)]);
      return lease;
    });
  }

  sweep(license: LicenseRef): Promise<{ live: Lease[]; expired: Lease[] }> {
    return withTenant(this.pool, license.tenantId, async (tx) => {
      const expired = await dropExpired(tx, license.tenantId, license.licenseId);
      await insertJournalEntries(
        tx,
        license.tenantId,
        expired.map((lease) => journal(license.licenseId, 'expired', lease, lease.expiresAtMs)),
      );
      const { rows } = await tx.query<LeaseRow>(
        `select ${leaseColumns} from license_leases where tenant_id = $1 and license_id = $2 order by acquired_at`,
        [license.tenantId, license.licenseId],
      );
      return { live: rows.map(toLease), expired };
    });
  }

  async forget(license: LicenseRef): Promise<void> {
    // The leases go with the license row (foreign key, on delete cascade).
    void license;
  }

  async close(): Promise<void> {}
}

async function dropExpired(tx: Tx, tenantId: string, licenseId: string): Promise<Lease[]> {
  const { rows } = await tx.query<LeaseRow>(
    `delete from license_leases where tenant_id = $1 and license_id = $2 and expires_at <= clock_timestamp()
     returning ${leaseColumns}`,
    [tenantId, licenseId],
  );
  return rows.map(toLease);
}

async function countLeases(tx: Tx, tenantId: string, licenseId: string): Promise<number> {
  const { rows } = await tx.query<{ count: number }>(
    'select count(*)::int as count from license_leases where tenant_id = $1 and license_id = $2',
    [tenantId, licenseId],
  );
  return rows[0]?.count ?? 0;
}
