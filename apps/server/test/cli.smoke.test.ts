import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testSecretKey } from '../../../test/app.ts';
import { createTestDatabase } from '../../../test/database.ts';
import { freePort, runCli } from '../../../test/processes.ts';

/** The CLI as a user runs it: real processes, real signals, the embedded PostgreSQL for `atrium start`. */
const dataDir = mkdtempSync(join(tmpdir(), 'atrium-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function json(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as any };
}

describe('atrium start', () => {
  it('boots embedded PostgreSQL, serves the API, stops cleanly on Ctrl-C and finds its data again', async () => {
    const env = {
      ATRIUM_DATA_DIR: dataDir,
      PORT: String(await freePort()),
      ATRIUM_EMBEDDED_PG_PORT: String(await freePort()),
    };
    const base = `http://127.0.0.1:${env.PORT}`;

    const first = runCli(['start'], env);
    await first.waitFor('Atrium is running');
    expect(first.output()).toContain(`docs http://localhost:${env.PORT}/docs`);
    expect((await json(`${base}/ready`)).status).toBe(200);
    const credentials = { email: 'persistent@example.com', password: 'correct horse battery staple' };
    const created = await json(`${base}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...credentials, organization: { name: 'Persistent' } }),
    });
    expect(created.status).toBe(201);
    expect(statSync(join(dataDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    first.child.kill('SIGINT');
    expect(await first.exit()).toBe(0);
    expect(first.output()).toContain('stopped cleanly');

    const second = runCli(['start'], env);
    await second.waitFor('Atrium is running');
    expect(second.output()).not.toContain('initialising the embedded PostgreSQL cluster');
    // Same data and same server secret: the access token issued before the restart still verifies.
    const orgId = created.body.organization.id;
    const found = await json(`${base}/api/v1/organizations/${orgId}`, {
      headers: { authorization: `Bearer ${created.body.access_token}` },
    });
    expect(found).toMatchObject({ status: 200, body: { name: 'Persistent' } });
    const login = await json(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(credentials),
    });
    expect(login.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exit()).toBe(0);
  });
});

describe('atrium migrate and serve', () => {
  it('migrates a server as the owner, then serves it as the runtime role', async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      const migrate = runCli(['migrate'], { DATABASE_URL: db.ownerUrl });
      expect(await migrate.exit()).toBe(0);
      expect(migrate.output()).toContain('applied migration');

      const port = String(await freePort());
      const serve = runCli(['serve'], { DATABASE_URL: db.ownerUrl, PORT: port, ATRIUM_SECRET_KEY: testSecretKey });
      await serve.waitFor('Atrium is running');
      expect(await json(`http://127.0.0.1:${port}/ready`)).toMatchObject({ status: 200 });
      const { rows } = await db.owner.query(
        "select distinct usename from pg_stat_activity where datname = current_database() and application_name = 'atrium'",
      );
      expect(rows.map((row) => row.usename)).toEqual(['atrium_app']);
      serve.child.kill('SIGTERM');
      expect(await serve.exit()).toBe(0);
    } finally {
      await db.drop();
    }
  });

  it('exits non-zero when it cannot migrate', async () => {
    const missing = runCli(['migrate'], {});
    expect(await missing.exit()).toBe(1);
    expect(missing.output()).toContain('DATABASE_URL (the owner role) is required');
    const unreachable = runCli(['migrate'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/x` });
    expect(await unreachable.exit()).toBe(1);
  });

  it('refuses bad configuration clearly', async () => {
    const bad = runCli(['serve'], { PORT: 'eighty' });
    expect(await bad.exit()).toBe(1);
    expect(bad.output()).toContain('configuration error: PORT must be an integer');
  });
});
