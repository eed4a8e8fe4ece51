import { createServer, type Server } from 'node:http';
import { fromPublicId } from '@atrium/contracts';
import { defineFlow, enqueue, FlowRegistry, FlowScheduler, signAuditBody } from '@atrium/core';
import { withTenant } from '@atrium/db';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, signUp, type TestApp, testConfig } from '../../../test/app.ts';
import { Metrics } from '../src/plugins/metrics.ts';
import { refreshFlowGauges, startFlowWorker } from '../src/worker.ts';

let t: TestApp;
let tenant: string;
let flows: Awaited<ReturnType<typeof startFlowWorker>>;
let webhook: Server;
const received: Array<{ signature: string; body: string }> = [];
const metrics = new Metrics();
const secret = 'relay-secret';

const uuid = (publicId: string) => fromPublicId('organization', publicId) as string;

async function waitForRun(runId: string, statuses: string[]) {
  const until = Date.now() + 15_000;
  for (;;) {
    const { body } = await call(t.app, 'GET', `/api/v1/flow-runs/${runId}`, undefined, { tenant });
    if (statuses.includes(body.status)) return body;
    if (Date.now() > until) throw new Error(`run is ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  t = await createTestApp();
  tenant = await createOrganization(t.app, 'Flows Inc');
  webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ signature: String(request.headers['x-atrium-signature']), body });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const address = webhook.address() as { port: number };
  const config = testConfig({
    flowBackend: 'postgres',
    flowLeaseMs: 2000,
    auditWebhookUrl: `http://127.0.0.1:${address.port}/audit`,
    auditWebhookSecret: secret,
  });
  const sleepy = defineFlow<{ ms: number }>({
    id: 'test.sleep',
    version: 1,
    run: (ctx) =>
      ctx.step(
        'sleep',
        (signal) =>
          new Promise((resolve) => {
            const timer = setTimeout(resolve, ctx.input.ms);
            signal.addEventListener('abort', () => clearTimeout(timer));
          }),
      ),
  });
  flows = await startFlowWorker(config, {
    pool: t.db.app,
    appUrl: t.db.appUrl,
    log: pino({ level: 'silent' }),
    metrics,
    flows: [sleepy as never],
  });
});
afterAll(async () => {
  await flows.stop(1000);
  webhook.close();
  await t.close();
});

describe('flows API', () => {
  it('lists the flows the workers registered', async () => {
    const { status, body } = await call(t.app, 'GET', '/api/v1/flows', undefined, { tenant });
    expect(status).toBe(200);
    const ids = body.data.map((flow: { id: string }) => flow.id);
    expect(ids).toEqual(
      expect.arrayContaining(['email.welcome', 'email.invitation', 'licensing.sweep', 'audit.relay']),
    );
    expect(body.data.find((flow: { id: string }) => flow.id === 'usage.daily-report').schedule).toEqual({
      cron: '0 1 * * *',
      timezone: 'UTC',
    });
  });

  it('starts a run once per Idempotency-Key and shows its steps, attempts and timing', async () => {
    const headers = { 'idempotency-key': 'start-1' };
    const first = await call(
      t.app,
      'POST',
      '/api/v1/flows/test.sleep/runs',
      { input: { ms: 10 } },
      { tenant, headers },
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ flow_id: 'test.sleep', status: 'queued', trigger: 'api' });
    const again = await call(
      t.app,
      'POST',
      '/api/v1/flows/test.sleep/runs',
      { input: { ms: 10 } },
      { tenant, headers },
    );
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const run = await waitForRun(first.body.id, ['succeeded']);
    expect(run.steps).toEqual([expect.objectContaining({ name: 'sleep', attempt: 1 })]);
    expect(run.attempts_detail).toEqual([expect.objectContaining({ number: 1, status: 'succeeded' })]);
    expect(Date.parse(run.finished_at)).toBeGreaterThanOrEqual(Date.parse(run.started_at));
    const list = await call(t.app, 'GET', '/api/v1/flow-runs?flow_id=test.sleep&status=succeeded', undefined, {
      tenant,
    });
    expect(list.body.data.map((r: { id: string }) => r.id)).toContain(first.body.id);
  });

  it('cancels a running run', async () => {
    const started = await call(t.app, 'POST', '/api/v1/flows/test.sleep/runs', { input: { ms: 60_000 } }, { tenant });
    await waitForRun(started.body.id, ['running']);
    const cancel = await call(t.app, 'POST', `/api/v1/flow-runs/${started.body.id}/cancel`, {}, { tenant });
    expect(cancel.status).toBe(200);
    const run = await waitForRun(started.body.id, ['cancelled']);
    expect(run.attempts_detail.at(-1).status).toBe('cancelled');
  });

  it('creates, pauses and resumes a schedule; a due schedule starts a run', async () => {
    const created = await call(
      t.app,
      'POST',
      '/api/v1/flow-schedules',
      { flow_id: 'test.sleep', cron: '*/5 * * * *', timezone: 'Europe/Paris', input: { ms: 1 } },
      { tenant },
    );
    expect(created.status).toBe(201);
    const paused = await call(t.app, 'POST', `/api/v1/flow-schedules/${created.body.id}/pause`, {}, { tenant });
    expect(paused.body.paused).toBe(true);
    const resumed = await call(t.app, 'POST', `/api/v1/flow-schedules/${created.body.id}/resume`, {}, { tenant });
    expect(resumed.body.paused).toBe(false);
    // Make it due and fire it by hand (the worker's own scheduler ticks every second as well).
    await t.db.owner.query(`update flow_schedules set next_run_at = now() - interval '1 second' where id = $1`, [
      fromPublicId('flowSchedule', created.body.id),
    ]);
    const scheduler = new FlowScheduler({ pool: t.db.app, registry: new FlowRegistry([]) });
    await scheduler.tick();
    const until = Date.now() + 10_000;
    let runs: Array<{ trigger: string; status: string }> = [];
    while (Date.now() < until) {
      runs = (await call(t.app, 'GET', '/api/v1/flow-runs?flow_id=test.sleep', undefined, { tenant })).body.data;
      if (runs.some((run) => run.trigger === 'schedule' && run.status === 'succeeded')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(runs.filter((run) => run.trigger === 'schedule')).toHaveLength(1);
    const list = await call(t.app, 'GET', '/api/v1/flow-schedules', undefined, { tenant });
    const schedule = list.body.data.find((s: { id: string }) => s.id === created.body.id);
    expect(Date.parse(schedule.next_run_at)).toBeGreaterThan(Date.now());
  });
});

describe('platform jobs', () => {
  it('sends the welcome email once through the outbox when SMTP is not configured', async () => {
    const runId = await withTenant(t.db.app, uuid(tenant), async (tx) => {
      const result = await enqueue(
        tx,
        'email.welcome',
        { email: 'ada@example.com', name: 'Ada' },
        {
          tenantId: uuid(tenant),
          idempotencyKey: 'welcome:ada',
        },
      );
      return result.runId;
    });
    const { toPublicId } = await import('@atrium/contracts');
    const run = await waitForRun(toPublicId('flowRun', runId), ['succeeded']);
    expect(run.output).toEqual({ sent_to: 'ada@example.com', via: 'outbox' });
    const { rows } = await t.db.owner.query('select to_address, subject from email_outbox where tenant_id = $1', [
      uuid(tenant),
    ]);
    // Ada's, once; and the owner's own, enqueued by sign-up (identity) in its transaction.
    expect(rows.filter((row) => row.to_address === 'ada@example.com')).toHaveLength(1);
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => row.subject === 'Welcome to Atrium')).toBe(true);
  });

  it('mails an invitation with a working token that the run never stores in clear', async () => {
    const invited = await call(
      t.app,
      'POST',
      `/api/v1/organizations/${tenant}/invitations`,
      { email: 'lin@example.com', role: 'member' },
      { tenant },
    );
    expect(invited.status).toBe(201);
    const until = Date.now() + 15_000;
    let run: { id: string; status: string; input: { token: string } } | undefined;
    while (Date.now() < until && run?.status !== 'succeeded') {
      const list = await call(t.app, 'GET', '/api/v1/flow-runs?flow_id=email.invitation', undefined, { tenant });
      run = list.body.data[0];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(run?.status).toBe('succeeded');
    const token: string = invited.body.token;
    // At rest: the run's input holds the token sealed (AES-256-GCM), nothing of the run holds it in clear.
    const stored = await t.db.owner.query(
      `select r.input, (select jsonb_agg(s.result) from flow_steps s where s.run_id = r.id) as steps,
         (select jsonb_agg(a.error) from flow_attempts a where a.run_id = r.id) as attempts
       from flow_runs r where r.flow_id = 'email.invitation' and r.tenant_id = $1`,
      [uuid(tenant)],
    );
    expect(stored.rows).toHaveLength(1);
    expect(JSON.stringify(stored.rows[0])).not.toContain(token);
    expect(stored.rows[0].input.token).toBeUndefined();
    expect(stored.rows[0].input.token_sealed).toMatch(/^v1\./);
    expect(run?.input).toMatchObject({ email: 'lin@example.com', token_sealed: '[redacted]' });
    const { rows } = await t.db.owner.query('select subject, body_text from email_outbox where to_address = $1', [
      'lin@example.com',
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0].subject).toBe('Join Flows Inc on Atrium');
    // The email carries the link and the code, and the code works.
    const code = /invitation code:\n\n(\S+)\n/.exec(rows[0].body_text)?.[1];
    expect(code).toBe(token);
    expect(rows[0].body_text).toContain('/invitations/accept');
    const lin = await signUp(t.app, { email: 'lin@example.com' });
    const accepted = await call(
      t.app,
      'POST',
      '/api/v1/invitations/accept',
      { token: code },
      { token: lin.accessToken },
    );
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ organization: { id: tenant }, role: 'member' });
  });

  it('exports every tenant table as a JSON archive', async () => {
    await call(t.app, 'POST', '/api/v1/workspaces', { name: 'Exported' }, { tenant });
    const requested = await call(t.app, 'POST', '/api/v1/organization-exports', {}, { tenant });
    expect(requested.status).toBe(202);
    await waitForRun(requested.body.run_id, ['succeeded']);
    const archive = await call(t.app, 'GET', `/api/v1/organization-exports/${requested.body.id}/download`, undefined, {
      tenant,
    });
    expect(archive.status).toBe(200);
    expect(archive.body.tables.organizations).toHaveLength(1);
    expect(archive.body.tables.workspaces.map((w: { name: string }) => w.name)).toContain('Exported');
    expect(Object.keys(archive.body.tables)).toEqual(expect.arrayContaining(['audit_logs', 'flow_runs', 'projects']));
  });

  it('stores a daily usage report and serves it as CSV', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const runId = await withTenant(
      t.db.app,
      uuid(tenant),
      async (tx) => (await enqueue(tx, 'usage.daily-report', { day }, { tenantId: uuid(tenant) })).runId,
    );
    const { toPublicId } = await import('@atrium/contracts');
    await waitForRun(toPublicId('flowRun', runId), ['succeeded']);
    const csv = await call(t.app, 'GET', `/api/v1/usage-reports/csv?from=${day}&to=${day}`, undefined, { tenant });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toContain(`${day},workspaces,1`);
    const reports = await call(t.app, 'GET', '/api/v1/usage-reports', undefined, { tenant });
    expect(reports.body.data[0].day).toBe(day);
  });

  it('relays audit events to the webhook, signed, and moves the cursor', async () => {
    const runId = await withTenant(
      t.db.app,
      uuid(tenant),
      async (tx) => (await enqueue(tx, 'audit.relay', {}, { tenantId: uuid(tenant) })).runId,
    );
    const { toPublicId } = await import('@atrium/contracts');
    await waitForRun(toPublicId('flowRun', runId), ['succeeded']);
    // The platform schedule (every 10 s, since a webhook is configured) may have relayed some events first.
    expect(received.length).toBeGreaterThan(0);
    for (const delivery of received) expect(delivery.signature).toBe(signAuditBody(secret, delivery.body));
    const actions = received.flatMap((d) => JSON.parse(d.body).events.map((e: { action: string }) => e.action));
    expect(actions).toContain('organization.created');
    const ids = received.flatMap((d) => JSON.parse(d.body).events.map((e: { id: string }) => e.id));
    expect(new Set(ids).size).toBe(ids.length);
    const cursor = await t.db.owner.query('select relayed_count from audit_relay_cursors where tenant_id = $1', [
      uuid(tenant),
    ]);
    expect(Number(cursor.rows[0].relayed_count)).toBe(ids.filter(Boolean).length);
    await refreshFlowGauges(metrics, t.db.app, 'postgres');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/atrium_flow_runs_total\{flow="audit.relay",status="succeeded"\} [1-9]/);
    expect(text).toMatch(/atrium_flow_queue_depth\{backend="postgres",state="ready"\}/);
    expect(text).toMatch(/atrium_audit_outbox_pending \d+/);
  });

  it('deletes finished runs past the retention period', async () => {
    const old = await withTenant(
      t.db.app,
      uuid(tenant),
      async (tx) => (await enqueue(tx, 'test.sleep', { ms: 1 }, { tenantId: uuid(tenant) })).runId,
    );
    const { toPublicId } = await import('@atrium/contracts');
    await waitForRun(toPublicId('flowRun', old), ['succeeded']);
    await t.db.owner.query(`update flow_runs set finished_at = now() - interval '40 days' where id = $1`, [old]);
    const sweep = await withTenant(
      t.db.app,
      uuid(tenant),
      async (tx) => (await enqueue(tx, 'flows.retention', {}, { tenantId: uuid(tenant) })).runId,
    );
    const run = await waitForRun(toPublicId('flowRun', sweep), ['succeeded']);
    expect(run.output.deleted).toBe(1);
    expect(
      (await call(t.app, 'GET', `/api/v1/flow-runs/${toPublicId('flowRun', old)}`, undefined, { tenant })).status,
    ).toBe(404);
  });

  it('deletes the organization after the grace period unless the run is cancelled', async () => {
    const kept = await createOrganization(t.app, 'Kept');
    const scheduled = await call(
      t.app,
      'POST',
      '/api/v1/organization-deletion',
      { delay_seconds: 3600 },
      { tenant: kept },
    );
    expect(scheduled.status).toBe(202);
    expect(Date.parse(scheduled.body.run_at)).toBeGreaterThan(Date.now() + 3_500_000);
    const cancelled = await call(t.app, 'POST', `/api/v1/flow-runs/${scheduled.body.id}/cancel`, {}, { tenant: kept });
    expect(cancelled.body.status).toBe('cancelled');

    const doomed = await createOrganization(t.app, 'Doomed');
    await call(t.app, 'POST', '/api/v1/organization-deletion', { delay_seconds: 0 }, { tenant: doomed });
    const until = Date.now() + 10_000;
    let exists = 1;
    while (exists > 0 && Date.now() < until) {
      exists = (await t.db.owner.query('select 1 from organizations where id = $1', [uuid(doomed)])).rowCount ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(exists).toBe(0);
    expect((await t.db.owner.query('select 1 from organizations where id = $1', [uuid(kept)])).rowCount).toBe(1);
  });
});
