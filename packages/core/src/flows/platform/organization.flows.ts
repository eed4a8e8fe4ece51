import type { Tx } from '@atrium/db';
import { defineFlow } from '../definition.ts';

/** Every table under row-level security that has a tenant_id column: new tables are exported without changes here. */
async function tenantTables(tx: Tx) {
  const { rows } = await tx.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relrowsecurity
       and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
     order by c.relname`,
  );
  return rows.map((row) => row.name);
}

/** All of the organization's rows, table by table, read under RLS (so nothing of another tenant can slip in). */
export async function exportTenant(tx: Tx, tenantId: string) {
  const tables: Record<string, unknown[]> = {};
  const organization = await tx.query('select * from organizations where id = $1', [tenantId]);
  tables.organizations = organization.rows;
  for (const table of await tenantTables(tx)) {
    // Earlier exports would nest inside each new one; they are listed, not copied.
    const select = table === 'organization_exports' ? 'id, run_id, status, created_at' : '*';
    const { rows } = await tx.query(`select ${select} from ${quoteIdent(table)} where tenant_id = $1 order by 1, 2`, [
      tenantId,
    ]);
    tables[table] = rows;
  }
  return { format: 'atrium-organization-export/1', organization_id: tenantId, exported_at: new Date(), tables };
}

function quoteIdent(name: string) {
  return `"${name.replaceAll('"', '""')}"`;
}

export const organizationExportFlow = defineFlow<{ export_id: string }>({
  id: 'organization.export',
  version: 1,
  attemptTimeoutMs: 15 * 60_000,
  run: (ctx) =>
    ctx.transactionalStep('write-archive', async (tx) => {
      const archive = await exportTenant(tx, ctx.tenantId);
      await tx.query(
        `update organization_exports set status = 'ready', archive = $3 where tenant_id = $1 and id = $2`,
        [ctx.tenantId, ctx.input.export_id, JSON.stringify(archive)],
      );
      return { tables: Object.keys(archive.tables).length };
    }),
});

/**
 * Deletes the organization and, by cascade, every row it owns. Started with a delay (run_at); cancelling the run
 * before then keeps the organization.
 */
export const organizationDeletionFlow = defineFlow({
  id: 'organization.delete',
  version: 1,
  // Not a memoized step: the step record would be deleted with the organization. Deleting twice is harmless.
  run: (ctx) =>
    ctx.withTenant(async (tx) => {
      const { rowCount } = await tx.query('delete from organizations where id = $1', [ctx.tenantId]);
      return { deleted: rowCount === 1 };
    }),
});
