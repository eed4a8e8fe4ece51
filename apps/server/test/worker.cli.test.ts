import { randomUUID } from 'node:crypto';
import { enqueue } from '@atrium/core';
import { withTenant } from '@atrium/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/database.ts';
import { freePort, runCli } from '../../../test/processes.ts';

/** `atrium worker` as an operator runs it: a real process, health endpoints, a real SIGTERM. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('atrium worker', () => {
  it('runs flows, serves /health /ready /metrics on WORKER_PORT and drains on SIGTERM', async () => {
    const tenant = randomUUID();
    await db.owner.query('insert into organizations (id, slug, name) values ($1, $2, $3)', [
      tenant,
      `w-${tenant}`,
      'W',
    ]);
    const port = await freePort();
    const worker = runCli(['worker'], {
      DATABASE_APP_URL: db.appUrl,
      WORKER_PORT: String(port),
      ATRIUM_FLOW_BACKEND: 'postgres',
      ATRIUM_WORKER_DRAIN_MS: '2000',
    });
    await worker.waitFor('worker health endpoints are listening', 30_000);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/ready`)).status).toBe(200);

    const { runId } = await withTenant(db.app, tenant, (tx) =>
      enqueue(tx, 'email.welcome', { email: 'grace@example.com' }, { tenantId: tenant }),
    );
    const until = Date.now() + 15_000;
    let status = 'queued';
    while (status !== 'succeeded' && Date.now() < until) {
      status = (await db.owner.query('select status from flow_runs where id = $1', [runId])).rows[0].status;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe('succeeded');
    expect(worker.output()).toContain('kept in email_outbox');

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('atrium_flow_runs_total{flow="email.welcome",status="succeeded"} 1');
    expect(metrics).toMatch(/atrium_flow_queue_depth\{backend="postgres",state="ready"\} \d+/);
    expect(metrics).toContain('atrium_flow_enqueue_to_start_seconds_count{backend="postgres"} 1');

    worker.child.kill('SIGTERM');
    expect(await worker.exit(), worker.output().slice(-3000)).toBe(0);
    expect(worker.output()).toContain('stopped cleanly');
  });
});
