import { randomUUID } from 'node:crypto';
import { createPool, withCredentials } from '@atrium/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';
import { insertAuditEvents, type QueuedAudit } from '../src/shared/audit.ts';
import { BatchWriter } from '../src/shared/batch-writer.ts';

/** The batched writer behind the lease journal and hot-path audit events (ADR 0103), on real PostgreSQL. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function organizations(count: number) {
  const ids = Array.from({ length: count }, () => randomUUID());
  await db.owner.query(
    `insert into organizations (id, slug, name) select id, 'bw-' || id, 'BW' from unnest($1::uuid[]) as id`,
    [ids],
  );
  return ids;
}

const event = (action: string): QueuedAudit => ({
  actor: { type: 'system', id: null },
  requestId: null,
  occurredAtMs: Date.now(),
  event: { action, resourceType: 'test', resourceId: null },
});

function writer(pool = db.app) {
  const seen = { errors: 0, dropped: 0 };
  const batches = new BatchWriter<QueuedAudit>({
    pool,
    write: insertAuditEvents,
    flushIntervalMs: 60_000,
    onError: () => {
      seen.errors++;
    },
    onDropped: (items) => {
      seen.dropped += items;
    },
  });
  return { batches, seen };
}

const rowsOf = async (action: string) =>
  (
    await db.owner.query<{ tenant_id: string; tx: string }>(
      'select tenant_id, xmin::text as tx from audit_logs where action = $1 order by tenant_id',
      [action],
    )
  ).rows;

describe('BatchWriter', () => {
  it("writes a flush spread over many organizations in one transaction, each row as its organization's", async () => {
    const tenants = await organizations(40);
    const { batches, seen } = writer();
    for (const tenant of tenants) for (let i = 0; i < 3; i++) batches.add(tenant, event('bw.many'));
    await batches.flush();
    const rows = await rowsOf('bw.many');
    expect(rows).toHaveLength(120);
    expect(new Set(rows.map((row) => row.tenant_id))).toEqual(new Set(tenants));
    // One commit for the whole flush (rows of one transaction share its xmin).
    expect(new Set(rows.map((row) => row.tx)).size).toBe(1);
    expect(seen).toEqual({ errors: 0, dropped: 0 });
    expect(batches.pending).toBe(0);
  });

  it('drops the rows of an organization that is gone and still writes the others', async () => {
    const [first, second] = await organizations(2);
    const gone = randomUUID();
    const { batches, seen } = writer();
    batches.add(first as string, event('bw.gone'));
    batches.add(gone, event('bw.gone'));
    batches.add(gone, event('bw.gone'));
    batches.add(second as string, event('bw.gone'));
    await batches.flush();
    expect((await rowsOf('bw.gone')).map((row) => row.tenant_id).sort()).toEqual([first, second].sort());
    expect(seen).toEqual({ errors: 1, dropped: 2 });
    expect(batches.pending).toBe(0);
  });

  it('keeps what it could not write while the database is away', async () => {
    const [first, second] = await organizations(2);
    const closed = createPool({
      connectionString: withCredentials(db.ownerUrl, 'atrium_app').replace(/:\d+\//, ':1/'),
    });
    try {
      const { batches, seen } = writer(closed);
      batches.add(first as string, event('bw.away'));
      batches.add(second as string, event('bw.away'));
      batches.add(second as string, event('bw.away'));
      await batches.flush();
      expect(batches.pending).toBe(3);
      expect(seen.dropped).toBe(0);
      expect(seen.errors).toBeGreaterThan(0);
      expect(await rowsOf('bw.away')).toEqual([]);
    } finally {
      await closed.end();
    }
  });
});
