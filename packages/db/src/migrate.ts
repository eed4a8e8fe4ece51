import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: Array<Pick<Migration, 'version' | 'name'>>;
  current: number;
}

export const migrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));

const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The numbered SQL files, in order. A gap or a duplicate number is an error, not something to guess about. */
export async function loadMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = fileNamePattern.exec(file);
    if (!match) throw new Error(`migration file name must look like 0001_name.sql: ${file}`);
    const version = Number(match[1]);
    if (version !== migrations.length + 1) throw new Error(`migration ${file} breaks the sequence`);
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    migrations.push({ version, name: match[2] ?? '', sql, checksum: sha256(sql) });
  }
  return migrations;
}

const ledgerSql = `
  create table if not exists atrium_schema_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  )`;

/**
 * Applies the pending migrations as the owner role. Forward-only: each file runs in its own transaction with
 * its ledger row, so a failing file leaves the schema exactly as the previous file left it, and the error
 * propagates (the CLI exits non-zero). An advisory lock makes concurrent runs (several pods starting) wait.
 * An already-applied file whose content changed is refused: history is not rewritten.
 */
export async function migrate(ownerUrl: string, options: { dir?: string; appPassword?: string } = {}) {
  const migrations = await loadMigrations(options.dir);
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'atrium-migrate' });
  await client.connect();
  const applied: MigrationResult['applied'] = [];
  try {
    await client.query(`select pg_advisory_lock(hashtext('atrium_schema_migrations'))`);
    await client.query(ledgerSql);
    await client.query('grant select on atrium_schema_migrations to public');
    const { rows } = await client.query<{ version: number; checksum: string }>(
      'select version, checksum from atrium_schema_migrations order by version',
    );
    const done = new Map(rows.map((row) => [row.version, row.checksum]));
    for (const migration of migrations) {
      const checksum = done.get(migration.version);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(`migration ${migration.version}_${migration.name} was changed after it was applied`);
        }
        continue;
      }
      await applyOne(client, migration);
      applied.push({ version: migration.version, name: migration.name });
    }
    if (options.appPassword !== undefined) {
      await client.query(`alter role atrium_app password ${client.escapeLiteral(options.appPassword)}`);
    }
  } finally {
    await client.end();
  }
  return { applied, current: migrations.length } satisfies MigrationResult;
}

async function applyOne(client: pg.Client, migration: Migration) {
  await client.query('begin');
  try {
    await client.query(migration.sql);
    await client.query('insert into atrium_schema_migrations (version, name, checksum) values ($1, $2, $3)', [
      migration.version,
      migration.name,
      migration.checksum,
    ]);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback');
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`migration ${migration.version}_${migration.name} failed and was rolled back: ${reason}`, {
      cause: err,
    });
  }
}

/** Highest applied version, as the runtime role sees it; null when the ledger does not exist yet. */
export async function appliedVersion(query: (sql: string) => Promise<{ rows: Array<{ version: number | null }> }>) {
  try {
    const { rows } = await query('select max(version) as version from atrium_schema_migrations');
    return rows[0]?.version ?? 0;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return null;
    throw err;
  }
}

function sha256(text: string) {
  return createHash('sha256').update(text).digest('hex');
}
