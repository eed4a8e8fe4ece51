import { randomBytes } from 'node:crypto';
import { newUuid } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';
import { insertJournalEntries, type JournalEntry } from '../src/licensing/journal.repository.ts';
import { insertAuditEvents, type QueuedAudit } from '../src/shared/audit.ts';

/**
 * The batched writers' inserts (ADR 0103) send a whole batch as one JSON parameter. What is read back must be
 * exactly what was queued: every column, awkward characters, nulls, millisecond timestamps, large batches, and
 * only under the tenant the transaction is scoped to (row-level security, app role).
 */

let db: TestDatabase;
const tenantId = newUuid();
const otherTenantId = newUuid();

beforeAll(async () => {
  db = await createTestDatabase();
  for (const id of [tenantId, otherTenantId]) {
    await db.owner.query(`insert into organizations (id, slug, name) values ($1, $2, 'Batches')`, [
      id,
      `batches-${randomBytes(3).toString('hex')}`,
    ]);
  }
});
afterAll(async () => {
  await db.drop();
});

const awkward = `quote " backslash \\ apostrophe ' brace { } comma , unicode é ✓ 🚀`;

describe('insertJournalEntries', () => {
  it('stores every field of every entry as given, in one statement', async () => {
    const licenseId = newUuid();
    const base = Date.UTC(2026, 11, 3, 14, 5, 6, 789);
    const entries: JournalEntry[] = [
      {
        licenseId,
        sessionId: newUuid(),
        fingerprint: 'host-"7"\\a',
        event: 'acquired',
        occurredAtMs: base,
        metadata: { note: awkward, build: 42, ratio: 0.5 },
      },
      { licenseId, sessionId: null, fingerprint: 'denied-machine', event: 'denied', occurredAtMs: base + 1 },
      { licenseId, sessionId: newUuid(), fingerprint: null, event: 'expired', occurredAtMs: base + 999 },
    ];
    await withTenant(db.app, tenantId, (tx) => insertJournalEntries(tx, tenantId, entries));

    const { rows } = await db.owner.query(
      `select tenant_id, license_id, session_id, fingerprint, event, occurred_at, metadata
       from license_journal where license_id = $1 order by occurred_at`,
      [licenseId],
    );
    const [first, , third] = entries;
    expect(rows).toEqual([
      {
        tenant_id: tenantId,
        license_id: licenseId,
        session_id: first?.sessionId,
        fingerprint: 'host-"7"\\a',
        event: 'acquired',
        occurred_at: new Date('2026-12-03T14:05:06.789Z'),
        metadata: { note: awkward, build: 42, ratio: 0.5 },
      },
      {
        tenant_id: tenantId,
        license_id: licenseId,
        session_id: null,
        fingerprint: 'denied-machine',
        event: 'denied',
        occurred_at: new Date('2026-12-03T14:05:06.790Z'),
        metadata: null,
      },
      {
        tenant_id: tenantId,
        license_id: licenseId,
        session_id: third?.sessionId,
        fingerprint: null,
        event: 'expired',
        occurred_at: new Date('2026-12-03T14:05:07.788Z'),
        metadata: null,
      },
    ]);
  });

  it('writes a batch of 2,000 entries with distinct ids', async () => {
    const licenseId = newUuid();
    const now = Date.now();
    const entries: JournalEntry[] = Array.from({ length: 2000 }, (_, i) => ({
      licenseId,
      sessionId: newUuid(),
      fingerprint: `machine-${i}`,
      event: 'acquired',
      occurredAtMs: now + i,
    }));
    await withTenant(db.app, tenantId, (tx) => insertJournalEntries(tx, tenantId, entries));
    const { rows } = await db.owner.query<{ n: number; ids: number; first: Date; last: Date }>(
      `select count(*)::int as n, count(distinct id)::int as ids, min(occurred_at) as first, max(occurred_at) as last
       from license_journal where license_id = $1`,
      [licenseId],
    );
    expect(rows[0]).toEqual({ n: 2000, ids: 2000, first: new Date(now), last: new Date(now + 1999) });
  });

  it("refuses to write rows for a tenant other than the transaction's", async () => {
    const entry: JournalEntry = {
      licenseId: newUuid(),
      sessionId: null,
      fingerprint: 'x',
      event: 'denied',
      occurredAtMs: Date.now(),
    };
    await expect(
      withTenant(db.app, tenantId, (tx) => insertJournalEntries(tx, otherTenantId, [entry])),
    ).rejects.toThrow(/row-level security/);
    const { rows } = await db.owner.query(`select 1 from license_journal where license_id = $1`, [entry.licenseId]);
    expect(rows).toEqual([]);
  });
});

describe('insertAuditEvents', () => {
  it('stores every field of every event as given, in one statement', async () => {
    const resourceId = newUuid();
    const base = Date.UTC(2026, 11, 3, 14, 5, 6, 1);
    const events: QueuedAudit[] = [
      {
        actor: { type: 'user', id: newUuid() },
        requestId: 'req-1',
        occurredAtMs: base,
        event: {
          action: 'license.released',
          resourceType: 'license',
          resourceId,
          data: { note: awkward, nested: { list: [1, 'two', null] } },
        },
      },
      {
        actor: { type: 'license', id: null },
        requestId: null,
        occurredAtMs: base + 1,
        event: { action: 'license.acquire_denied', resourceType: 'license', resourceId },
      },
    ];
    await withTenant(db.app, tenantId, (tx) => insertAuditEvents(tx, tenantId, events));

    const { rows } = await db.owner.query(
      `select tenant_id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, request_id, data
       from audit_logs where resource_id = $1 order by occurred_at`,
      [resourceId],
    );
    const userId = events[0]?.actor.id;
    expect(rows).toEqual([
      {
        tenant_id: tenantId,
        occurred_at: new Date('2026-12-03T14:05:06.001Z'),
        actor_type: 'user',
        actor_id: userId,
        action: 'license.released',
        resource_type: 'license',
        resource_id: resourceId,
        request_id: 'req-1',
        data: { note: awkward, nested: { list: [1, 'two', null] } },
      },
      {
        tenant_id: tenantId,
        occurred_at: new Date('2026-12-03T14:05:06.002Z'),
        actor_type: 'license',
        actor_id: null,
        action: 'license.acquire_denied',
        resource_type: 'license',
        resource_id: resourceId,
        request_id: null,
        data: {},
      },
    ]);
  });
});
