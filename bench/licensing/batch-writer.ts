import { BatchWriter } from '@atrium/core';
import { createPool, migrate, withCredentials } from '@atrium/db';
import pg from 'pg';
import { insertAuditEvents, type QueuedAudit } from '../../packages/core/src/shared/audit.ts';

/**
 * One flush of the batched writer behind the lease journal and hot-path audit events (ADR 0103), with its rows
 * spread over many organizations: how many rows and organizations a second one flush writes. Audit rows stand in
 * for journal rows (same writer, same kind of insert; an audit row needs no license). Three rounds on a fresh
 * database, dropped at the end; everything goes to 127.0.0.1.
 *
 *   node bench/licensing/batch-writer.ts [organizations=2000] [rows-per-organization=1]
 */
const organizations = Number(process.argv[2] ?? 2000);
const perOrganization = Number(process.argv[3] ?? 1);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const name = `atrium_bench_bw_${Date.now()}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`create database ${name}`);
const ownerUrl = adminUrl.replace(/\/[^/]*$/, `/${name}`);
const owner = createPool({ connectionString: ownerUrl, max: 2 });
const app = createPool({ connectionString: withCredentials(ownerUrl, 'atrium_app'), max: 10 });
try {
  await migrate(ownerUrl);
  const { rows } = await owner.query<{ id: string }>(
    `insert into organizations (id, slug, name) select id, 'o-' || id, 'O' from (select gen_random_uuid() as id from generate_series(1, $1)) as o returning id`,
    [organizations],
  );
  const ids = rows.map((row) => row.id);
  const writer = new BatchWriter<QueuedAudit>({
    pool: app,
    write: insertAuditEvents,
    maxBatch: Number.MAX_SAFE_INTEGER,
    flushIntervalMs: 3_600_000,
  });
  for (let round = 1; round <= 3; round++) {
    for (let i = 0; i < perOrganization; i++) {
      for (const id of ids) {
        writer.add(id, {
          actor: { type: 'system', id: null },
          requestId: null,
          occurredAtMs: Date.now(),
          event: { action: 'bench.row', resourceType: 'bench', resourceId: null },
        });
      }
    }
    const started = performance.now();
    await writer.flush();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `round ${round}: ${organizations} organizations x ${perOrganization} rows in ${(seconds * 1000).toFixed(0)} ms: ` +
        `${Math.round((organizations * perOrganization) / seconds)} rows/s, ${Math.round(organizations / seconds)} organizations/s`,
    );
  }
  const written = await owner.query<{ n: number }>(
    "select count(*)::int as n from audit_logs where action = 'bench.row'",
  );
  console.log(`rows written: ${written.rows[0]?.n} of ${3 * organizations * perOrganization}`);
} finally {
  await owner.end();
  await app.end();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
