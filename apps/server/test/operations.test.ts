import { readFileSync } from 'node:fs';
import { errorCatalog, metricsCatalog } from '@atrium/contracts';
import { createPool, loadMigrations } from '@atrium/db';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp, testConfig } from '../../../test/app.ts';
import { createTestDatabase } from '../../../test/database.ts';
import { freePort } from '../../../test/processes.ts';
import { buildApp } from '../src/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('health', () => {
  it('reports liveness and readiness with the current migration', async () => {
    expect((await call(t.app, 'GET', '/health')).body).toEqual({ status: 'ok' });
    const ready = await call(t.app, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', migration: (await loadMigrations()).length });
  });

  it('is not ready when the database lacks migrations this build needs', async () => {
    const db = await createTestDatabase({ migrated: false });
    const app = await buildApp(testConfig(), { pool: db.app, expectedMigration: 1 });
    try {
      const ready = await call(app, 'GET', '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe('service_unavailable');
    } finally {
      await app.close();
      await db.drop();
    }
  });
});

describe('a database that is away', () => {
  it('answers 503 service_unavailable with retry-after, not 500', async () => {
    const pool = createPool({ connectionString: `postgres://atrium_app@127.0.0.1:${await freePort()}/none` });
    const app = await buildApp(testConfig(), { pool, expectedMigration: 1 });
    try {
      const refused = await call(app, 'POST', '/api/v1/auth/login', {
        email: 'ada@example.com',
        password: 'correct horse battery staple',
      });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({
        code: 'service_unavailable',
        detail: 'the database is unavailable; retry shortly',
      });
      expect(refused.headers['retry-after']).toBe('5');
    } finally {
      await app.close();
      await pool.end();
    }
  });
});

describe('metrics', () => {
  it('exports RED metrics per route template, pool state, and every metric of the catalog', async () => {
    const tenant = await createOrganization(t.app);
    await call(t.app, 'GET', '/api/v1/workspaces', undefined, { tenant });
    const text = (await call(t.app, 'GET', '/metrics')).body as string;
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/workspaces",status_code="200"\} 1/);
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/workspaces"');
    expect(text).toMatch(/atrium_db_pool_connections\{pool="app",state="total"\} \d+/);
    expect(text).toContain('process_resident_memory_bytes');
    for (const name of Object.keys(metricsCatalog.metrics)) expect(text).toContain(`# TYPE ${name} `);
  });
});

describe('requests', () => {
  it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
    const given = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const unsafe = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'a b\nc' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const ids = await Promise.all([1, 2, 3].map(() => t.app.inject({ url: '/health' })));
    expect(new Set(ids.map((response) => response.headers['x-request-id'])).size).toBe(3);
  });

  it('logs JSON lines with request_id, tenant_id and user_id', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const app = await buildApp(testConfig(), {
      pool: t.db.app,
      expectedMigration: (await loadMigrations()).length,
      logger,
    });
    try {
      const tenant = await createOrganization(app);
      await call(app, 'GET', '/api/v1/workspaces', undefined, { tenant, headers: { 'x-request-id': 'log-test-1' } });
      const entries = lines.map((line) => JSON.parse(line)).filter((entry) => entry.request_id === 'log-test-1');
      expect(entries.length).toBeGreaterThan(0);
      const completed = entries.find((entry) => entry.msg === 'request completed');
      expect(completed).toMatchObject({ request_id: 'log-test-1', actor_type: 'user' });
      expect(completed.user_id).toMatch(/^usr_[0-9a-f]{32}$/);
      expect(completed.tenant_id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await app.close();
    }
  });
});

describe('error catalog', () => {
  it('matches docs/errors.md code for code and status for status', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Map(
      [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((match) => [match[1], Number(match[2])]),
    );
    const catalog = new Map(Object.entries(errorCatalog).map(([code, entry]) => [code, entry.status]));
    expect(documented).toEqual(catalog);
  });

  it('is served at /errors, where problem types point', async () => {
    const response = await t.app.inject({ url: '/errors' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('| `not_found` | 404 |');
  });
});

describe('OpenAPI', () => {
  it('documents every API route with its responses, errors included, as OpenAPI 3.1', async () => {
    const spec = (await call(t.app, 'GET', '/docs/json')).body;
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.components.schemas.Problem).toBeDefined();
    const apiRoutes = t.app.atriumRoutes.filter((route) => route.url.startsWith('/api/'));
    for (const route of apiRoutes) {
      const path = route.url.replace(/:([a-z_]+)/g, '{$1}');
      const operation = spec.paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${path}`).toBeDefined();
      const statuses = Object.keys(operation.responses);
      expect(
        statuses.some((status) => status.startsWith('2')),
        `${route.method} ${path}`,
      ).toBe(true);
      // Every API route can be rate limited; every non-public one can refuse credentials.
      expect(statuses, `${route.method} ${path}`).toContain('429');
      if (route.auth !== 'public') expect(statuses, `${route.method} ${path}`).toContain('401');
    }
  });

  it("shows the contract's schemas, not serializer hints (the acquire token is written with format: unsafe)", async () => {
    const spec = (await call(t.app, 'GET', '/docs/json')).body;
    expect(JSON.stringify(spec)).not.toContain('"unsafe"');
    const created = spec.paths['/api/v1/licenses/acquire'].post.responses['201'].content['application/json'].schema;
    expect(created.properties.token.description).toMatch(/JWT/);
  });

  it('serves the interactive docs', async () => {
    const response = await t.app.inject({ url: '/docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('swagger');
  });
});
