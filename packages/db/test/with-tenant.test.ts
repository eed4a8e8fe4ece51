import { newUuid } from '@atrium/contracts';
import {
  createPool,
  InvalidTenantError,
  type Pool,
  type Tx,
  withEachTenant,
  withoutTenant,
  withTenant,
} from '@atrium/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';

let db: TestDatabase;
let single: Pool;
const tenantA = newUuid();
const tenantB = newUuid();

beforeAll(async () => {
  db = await createTestDatabase();
  // One connection, so every transaction below reuses the same pooled session.
  single = createPool({ connectionString: db.appUrl, max: 1 });
  for (const [id, slug] of [
    [tenantA, 'tenant-a'],
    [tenantB, 'tenant-b'],
  ] as const) {
    await withTenant(single, id, async (tx) => {
      await tx.query('insert into organizations (id, slug, name) values ($1, $2, $2)', [id, slug]);
      await tx.query('insert into workspaces (tenant_id, id, name) values ($1, $2, $3)', [id, newUuid(), slug]);
    });
  }
});
afterAll(async () => {
  await single.end();
  await db.drop();
});

const workspaceNames = (pool: Pool, tenant: string | null) =>
  (tenant
    ? withTenant(pool, tenant, (tx) => tx.query<{ name: string }>('select name from workspaces'))
    : withoutTenant(pool, (tx) => tx.query<{ name: string }>('select name from workspaces'))
  ).then((result) => result.rows.map((row) => row.name));

describe('withTenant', () => {
  it('shows a tenant its own rows only, even without a where clause', async () => {
    expect(await workspaceNames(single, tenantA)).toEqual(['tenant-a']);
    expect(await workspaceNames(single, tenantB)).toEqual(['tenant-b']);
  });

  it('shows no rows when no tenant is set, also on a connection a tenant used before', async () => {
    await workspaceNames(single, tenantA);
    expect(await workspaceNames(single, null)).toEqual([]);
    const { rows } = await single.query('select count(*)::int as n from workspaces');
    expect(rows[0].n).toBe(0);
  });

  it('refuses to write a row for another tenant', async () => {
    const write = withTenant(single, tenantA, (tx) =>
      tx.query('insert into workspaces (tenant_id, id, name) values ($1, $2, $3)', [tenantB, newUuid(), 'sneaky']),
    );
    await expect(write).rejects.toMatchObject({ code: '42501' });
    expect(await workspaceNames(single, tenantB)).toEqual(['tenant-b']);
  });

  it('rolls back everything when the work fails', async () => {
    const failing = withTenant(single, tenantA, async (tx) => {
      await tx.query('insert into workspaces (tenant_id, id, name) values ($1, $2, $3)', [tenantA, newUuid(), 'half']);
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(await workspaceNames(single, tenantA)).toEqual(['tenant-a']);
  });

  it('accepts only a UUID as tenant id, so nothing can be injected into the set_config statement', async () => {
    await expect(withTenant(single, "x'); drop table workspaces; --", async () => 1)).rejects.toBeInstanceOf(
      InvalidTenantError,
    );
    expect(await workspaceNames(single, tenantA)).toEqual(['tenant-a']);
  });
});

describe('withEachTenant', () => {
  const insert = (name: string) => (tx: Tx, tenantId: string) =>
    tx
      .query('insert into workspaces (tenant_id, id, name) values ($1, $2, $3)', [tenantId, newUuid(), name])
      .then(() => undefined);

  it("runs each tenant's work as that tenant, in one transaction", async () => {
    await withEachTenant(single, [tenantA, tenantB], insert('each'));
    expect(await workspaceNames(single, tenantA)).toEqual(['tenant-a', 'each']);
    expect(await workspaceNames(single, tenantB)).toEqual(['tenant-b', 'each']);
    const { rows } = await db.owner.query(
      "select count(distinct xmin::text)::int as n from workspaces where name = 'each'",
    );
    expect(rows[0].n).toBe(1);
  });

  it("refuses a row for another tenant in a tenant's turn, and rolls back every tenant's work", async () => {
    const crossing = withEachTenant(single, [tenantA, tenantB], (tx, tenantId) =>
      tx
        .query('insert into workspaces (tenant_id, id, name) values ($1, $2, $3)', [
          tenantId === tenantB ? tenantA : tenantId,
          newUuid(),
          'crossing',
        ])
        .then(() => undefined),
    );
    await expect(crossing).rejects.toMatchObject({ code: '42501' });
    const { rows } = await db.owner.query("select count(*)::int as n from workspaces where name = 'crossing'");
    expect(rows[0].n).toBe(0);
    // The connection goes back to the pool with no tenant set.
    expect(await workspaceNames(single, null)).toEqual([]);
  });

  it('accepts only UUIDs as tenant ids', async () => {
    await expect(
      withEachTenant(single, [tenantA, "x'); drop table workspaces; --"], insert('bad')),
    ).rejects.toBeInstanceOf(InvalidTenantError);
    const { rows } = await db.owner.query("select count(*)::int as n from workspaces where name = 'bad'");
    expect(rows[0].n).toBe(0);
  });
});
