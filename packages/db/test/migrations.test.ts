import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations, migrate, migrationsDir } from '@atrium/db';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';

let db: TestDatabase | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

const tableExists = async (name: string) =>
  (await (db as TestDatabase).owner.query('select to_regclass($1) as t', [name])).rows[0].t !== null;

describe('migrate', () => {
  it('applies every migration once, then nothing', async () => {
    db = await createTestDatabase({ migrated: false });
    const count = (await loadMigrations()).length;
    const first = await migrate(db.ownerUrl);
    expect(first.applied.map((m) => m.version)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    const second = await migrate(db.ownerUrl);
    expect(second).toEqual({ applied: [], current: count });
  });

  it('rolls a failing migration back entirely and reports it', async () => {
    db = await createTestDatabase({ migrated: false });
    const dir = mkdtempSync(join(tmpdir(), 'atrium-migrations-'));
    cpSync(migrationsDir, dir, { recursive: true });
    const next = String((await loadMigrations()).length + 1).padStart(4, '0');
    writeFileSync(join(dir, `${next}_broken.sql`), 'create table half_done (id int);\nselect * from no_such_table;\n');
    await expect(migrate(db.ownerUrl, { dir })).rejects.toThrow(/broken failed and was rolled back/);
    expect(await tableExists('half_done')).toBe(false);
    expect(await tableExists('workspaces')).toBe(true);
    const { rows } = await db.owner.query('select max(version)::int as v from atrium_schema_migrations');
    expect(rows[0].v).toBe(Number(next) - 1);
  });

  it('refuses to run when an applied migration was edited', async () => {
    db = await createTestDatabase({ migrated: false });
    const dir = mkdtempSync(join(tmpdir(), 'atrium-migrations-'));
    cpSync(migrationsDir, dir, { recursive: true });
    await migrate(db.ownerUrl, { dir });
    writeFileSync(join(dir, '0001_tenancy_foundation.sql'), '-- rewritten history\n');
    await expect(migrate(db.ownerUrl, { dir })).rejects.toThrow(/was changed after it was applied/);
  });
});
