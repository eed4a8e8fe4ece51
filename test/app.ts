import { loadMigrations } from '@atrium/db';
import { type AppDeps, buildApp } from '../apps/server/src/app.ts';
import { type Config, loadConfig } from '../apps/server/src/config.ts';
import type { App } from '../apps/server/src/routes/shared.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface TestApp {
  app: App;
  db: TestDatabase;
  close(): Promise<void>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ LOG_LEVEL: 'silent' }), devTenantHeader: true, ...overrides };
}

/** The whole API on its own database, driven in-process with app.inject (no port). */
export async function createTestApp(
  overrides: Partial<Config> = {},
  deps: Partial<Omit<AppDeps, 'pool' | 'expectedMigration'>> = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  const expectedMigration = (await loadMigrations()).length;
  const app = await buildApp(testConfig(overrides), { pool: db.app, expectedMigration, ...deps });
  return {
    app,
    db,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

export interface Caller {
  tenant?: string;
  headers?: Record<string, string>;
}

/** A JSON request as tenant `tenant` (the development header; identity replaces it in a later issue). */
export async function call(app: App, method: string, url: string, body?: unknown, caller: Caller = {}) {
  const headers: Record<string, string> = { ...caller.headers };
  if (caller.tenant) headers['x-atrium-dev-tenant'] = caller.tenant;
  // A string body is sent as it is (to test malformed JSON); an object is serialized as JSON.
  if (typeof body === 'string') headers['content-type'] ??= 'application/json';
  const payload = body === undefined ? {} : { payload: body as string | object };
  const response = await app.inject({ method: method as 'GET', url, headers, ...payload });
  return { status: response.statusCode, headers: response.headers, body: parse(response.body) };
}

function parse(text: string): any {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Creates an organization and returns its id, for use as a tenant. */
export async function createOrganization(app: App, name = 'Acme'): Promise<string> {
  const response = await call(app, 'POST', '/api/v1/organizations', { name });
  if (response.status !== 201) throw new Error(`could not create organization: ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}
