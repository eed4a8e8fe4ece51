import type { Pool } from '@atrium/db';

/**
 * Every row a tenant owns, in every tenant table, read as the owner role (through RLS). Comparing two
 * snapshots shows whether anything of that tenant changed, including tables added after this was written.
 */
export async function tenantSnapshot(owner: Pool, tenantId: string): Promise<Record<string, unknown[]>> {
  const { rows: tables } = await owner.query<{ table_name: string }>(
    `select table_name from information_schema.columns
     where table_schema = 'public' and column_name = 'tenant_id' order by table_name`,
  );
  const snapshot: Record<string, unknown[]> = {};
  const organization = await owner.query('select * from organizations where id = $1', [tenantId]);
  snapshot.organizations = organization.rows;
  for (const { table_name } of tables) {
    const { rows } = await owner.query(`select * from "${table_name}" where tenant_id = $1 order by 1, 2`, [tenantId]);
    snapshot[table_name] = rows;
  }
  return snapshot;
}
