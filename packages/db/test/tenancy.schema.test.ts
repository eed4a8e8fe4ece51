import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';

/**
 * The schema rules of DESIGN.md §4, checked against the migrated database itself: a new table that forgets one
 * of them fails here, whoever wrote it.
 */

/** Tables without tenant_id, each with the reason it may exist. */
const globalTables: Record<string, string> = {
  atrium_schema_migrations: 'migration ledger, read by /ready',
  flow_definitions: 'flow code registered by workers (ids, versions, triggers): no tenant data (ADR 0201)',
  flow_queue: 'cross-tenant dispatch index: ids, priority, readiness and leases only, no payload (ADR 0201)',
  flow_tenant_limits:
    "an organization's flow concurrency limit and queue quota, read by the cross-tenant claim; numbers only, " +
    'read-only for the runtime role (an organization must not raise its own limits)',
  license_key_index:
    'license key hash → owning organization; a machine presenting only its key has no tenant yet (ADR 0102). ' +
    'No grant to the runtime role; read only through the SECURITY DEFINER function license_key_owner()',
  signing_keys: 'token signing keys shared by every API process; private part encrypted under the root (ADR 0101)',
  users: 'a person can belong to several organizations (DESIGN.md §4)',
  user_recovery_codes: "part of a person's credentials",
  oidc_identities: "links a person to an external issuer's subject",
  refresh_tokens: "a person's sessions; the organization is only the session default",
  auth_signing_keys: 'keys that sign access tokens for every organization',
};
/** Indexes allowed not to lead with tenant_id, each with the reason. */
const indexExceptions: Record<string, string> = {
  memberships_by_user_idx: "finding a person's organizations at sign-in",
};
/** Tables that are the tenant itself: keyed by id, isolated on id. */
const tenantRootTables = ['organizations'];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function rows<T>(sql: string, values: unknown[] = []) {
  return (await db.owner.query(sql, values)).rows as T[];
}

describe('every tenant table', () => {
  it('has tenant_id, forced row-level security and a policy, or is a declared global table', async () => {
    const tables = await rows<{ name: string; has_tenant: boolean; rls: boolean; forced: boolean; policies: number }>(`
      select c.relname as name,
             exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id') as has_tenant,
             c.relrowsecurity as rls, c.relforcerowsecurity as forced,
             (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')`);
    expect(tables.length).toBeGreaterThan(3);
    for (const table of tables) {
      if (table.name in globalTables) continue;
      const label = `table ${table.name}`;
      expect(table.has_tenant || tenantRootTables.includes(table.name), `${label} needs tenant_id`).toBe(true);
      expect(table.rls, `${label} needs ENABLE ROW LEVEL SECURITY`).toBe(true);
      expect(table.forced, `${label} needs FORCE ROW LEVEL SECURITY`).toBe(true);
      expect(table.policies, `${label} needs a policy`).toBeGreaterThan(0);
    }
  });

  it('leads its primary key, unique constraints, foreign keys and indexes with tenant_id', async () => {
    const constraints = await rows<{
      table: string;
      name: string;
      type: string;
      first_column: string;
      referenced: string | null;
    }>(`
      select c.relname as table, con.conname as name, con.contype as type, a.attname as first_column,
             con.confrelid::regclass::text as referenced
      from pg_constraint con
      join pg_class c on c.oid = con.conrelid
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum = con.conkey[1]
      where n.nspname = 'public' and con.contype in ('p', 'u', 'f')
        and exists (select 1 from pg_attribute t where t.attrelid = c.oid and t.attname = 'tenant_id')`);
    expect(constraints.length).toBeGreaterThan(5);
    for (const constraint of constraints) {
      // A tenant table may reference a global table (a Citus reference table), e.g. memberships → users.
      if (constraint.type === 'f' && constraint.referenced && constraint.referenced in globalTables) continue;
      expect(constraint.first_column, `${constraint.table}.${constraint.name}`).toBe('tenant_id');
    }
    const indexes = await rows<{ table: string; name: string; first_column: string }>(`
      select t.relname as table, i.relname as name, a.attname as first_column
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace
      join pg_attribute a on a.attrelid = t.oid and a.attnum = x.indkey[0]
      where n.nspname = 'public'
        and exists (select 1 from pg_attribute c where c.attrelid = t.oid and c.attname = 'tenant_id')`);
    for (const index of indexes) {
      if (index.name in indexExceptions) continue;
      expect(index.first_column, `${index.table}.${index.name}`).toBe('tenant_id');
    }
  });

  it('has policies that compare tenant_id with the transaction tenant', async () => {
    const policies = await rows<{ table: string; using: string; check: string | null }>(`
      select c.relname as table, pg_get_expr(p.polqual, p.polrelid) as using,
             pg_get_expr(p.polwithcheck, p.polrelid) as check
      from pg_policy p join pg_class c on c.oid = p.polrelid`);
    for (const policy of policies.filter((p) => p.check !== null || !p.using.includes('app_current_user'))) {
      const column = tenantRootTables.includes(policy.table) ? 'id' : 'tenant_id';
      expect(policy.using, policy.table).toContain(`${column} = ( SELECT app_current_tenant()`);
    }
    // Policies keyed on the signed-in person may only ever allow reading.
    const personal = await rows<{ table: string; command: string }>(`
      select c.relname as table, p.polcmd as command from pg_policy p join pg_class c on c.oid = p.polrelid
      where pg_get_expr(p.polqual, p.polrelid) like '%app_current_user%'`);
    expect(personal.length).toBe(2);
    for (const policy of personal) expect(policy.command, policy.table).toBe('r');
  });
});

describe('the runtime role', () => {
  it('is not a superuser, cannot bypass RLS and owns nothing', async () => {
    const [role] = await rows<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }>(`
      select rolsuper, rolbypassrls,
             (select count(*)::int from pg_class c where c.relowner = r.oid) as owned
      from pg_roles r where rolname = 'atrium_app'`);
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('may only append to the audit log', async () => {
    const [grants] = await rows<{ can_insert: boolean; can_update: boolean; can_delete: boolean }>(`
      select has_table_privilege('atrium_app', 'audit_logs', 'insert') as can_insert,
             has_table_privilege('atrium_app', 'audit_logs', 'update') as can_update,
             has_table_privilege('atrium_app', 'audit_logs', 'delete') as can_delete`);
    expect(grants).toEqual({ can_insert: true, can_update: false, can_delete: false });
  });
});
