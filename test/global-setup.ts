import { migrate } from '@atrium/db';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * Migrates one template database per test run on the real PostgreSQL (TEST_DATABASE_URL, Default: the
 * machine's server at 127.0.0.1:5432); each test file clones it (test/database.ts). Everything this run
 * created is dropped at the end.
 */
export default async function setup(project: TestProject) {
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const runId = `atrium_test_${process.pid}_${Date.now().toString(36)}`;
  const template = `${runId}_template`;
  await admin(adminUrl, (client) => client.query(`create database ${template}`));
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await migrate(templateUrl.toString());
  project.provide('testDatabase', { adminUrl, runId, template });
  return async () => {
    await admin(adminUrl, async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        'select datname from pg_database where datname like $1',
        [`${runId}%`],
      );
      for (const { datname } of rows) await client.query(`drop database if exists ${datname} with (force)`);
    });
  };
}

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: { adminUrl: string; runId: string; template: string };
  }
}
