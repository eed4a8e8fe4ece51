import { randomBytes } from 'node:crypto';
import { createPool, type Pool, withCredentials } from '@atrium/db';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  name: string;
  /** Owner role (the superuser here): sees through row-level security. For assertions only. */
  ownerUrl: string;
  /** Runtime role atrium_app: what the server uses. */
  appUrl: string;
  owner: Pool;
  app: Pool;
  drop(): Promise<void>;
}

/** A fresh database cloned from the run's migrated template: real PostgreSQL, nothing shared between files. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const { adminUrl, runId, template } = inject('testDatabase');
  const name = `${runId}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const from = options.migrated === false ? 'template0' : template;
    await admin.query(`create database ${name} template ${from}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const ownerUrl = url.toString();
  const appUrl = withCredentials(ownerUrl, 'atrium_app');
  const owner = createPool({ connectionString: ownerUrl, max: 2, applicationName: 'atrium-test-owner' });
  const app = createPool({ connectionString: appUrl, max: 5, applicationName: 'atrium-test' });
  return {
    name,
    ownerUrl,
    appUrl,
    owner,
    app,
    async drop() {
      await Promise.all([owner.end(), app.end()]);
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`).finally(() => client.end());
    },
  };
}
