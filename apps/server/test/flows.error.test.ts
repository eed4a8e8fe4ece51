import { fromPublicId } from '@atrium/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';

let t: TestApp;
let tenant: string;
let runId: string;

beforeAll(async () => {
  t = await createTestApp({ flowTenantQueueQuota: 3 });
  tenant = await createOrganization(t.app, 'Errors Inc');
  await t.db.owner.query(`insert into flow_definitions (id, version) values ('test.known', 1)`);
  const exported = await call(t.app, 'POST', '/api/v1/organization-exports', {}, { tenant });
  runId = exported.body.run_id;
});
afterAll(() => t.close());

const unchangedRuns = async () => (await t.db.owner.query('select count(*)::int as n from flow_runs')).rows[0].n;

describe('flows API refuses bad input with a 4xx and changes nothing', () => {
  it.each([
    ['unknown field', { input: {}, surprise: true }],
    ['input that is not an object', { input: [1, 2] }],
    ['priority out of range', { priority: 1000 }],
    ['run_at that is not a date', { run_at: 'tomorrow' }],
    ['injection in a string', { run_at: "'; drop table flow_runs; --" }],
  ])('%s', async (_label, body) => {
    const before = await unchangedRuns();
    const response = await call(t.app, 'POST', '/api/v1/flows/test.known/runs', body, { tenant });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
    expect(await unchangedRuns()).toBe(before);
  });

  it('answers 404 for a flow no worker defines and 400 for a malformed flow id', async () => {
    expect((await call(t.app, 'POST', '/api/v1/flows/nope.never/runs', {}, { tenant })).status).toBe(404);
    expect((await call(t.app, 'POST', '/api/v1/flows/Not%20A%20Flow/runs', {}, { tenant })).status).toBe(400);
  });

  it('refuses malformed JSON', async () => {
    const response = await call(t.app, 'POST', '/api/v1/flows/test.known/runs', '{"input":', { tenant });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('malformed_json');
  });

  it('refuses reusing an Idempotency-Key with another body (422)', async () => {
    const headers = { 'idempotency-key': 'reuse' };
    expect((await call(t.app, 'POST', '/api/v1/flows/test.known/runs', {}, { tenant, headers })).status).toBe(201);
    const reused = await call(t.app, 'POST', '/api/v1/flows/test.known/runs', { priority: 5 }, { tenant, headers });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
  });

  it('answers 429 flow_queue_full past the tenant queue quota', async () => {
    let last = 0;
    for (let i = 0; i < 4; i++)
      last = (await call(t.app, 'POST', '/api/v1/flows/test.known/runs', {}, { tenant })).status;
    expect(last).toBe(429);
  });

  it("applies an organization's own queue quota instead of the global one, and only to that organization", async () => {
    const small = await createOrganization(t.app, 'Small Plan Inc');
    const large = await createOrganization(t.app, 'Large Plan Inc');
    const id = (publicId: string) => fromPublicId('organization', publicId);
    await t.db.owner.query('insert into flow_tenant_limits (tenant_id, queue_quota) values ($1, 1), ($2, 5)', [
      id(small),
      id(large),
    ]);
    // Sign-up's welcome email waits in each organization's queue too (no worker here): start from empty queues.
    await t.db.owner.query('delete from flow_queue where tenant_id in ($1, $2)', [id(small), id(large)]);
    const start = (organization: string) =>
      call(t.app, 'POST', '/api/v1/flows/test.known/runs', {}, { tenant: organization });
    expect((await start(small)).status).toBe(201);
    const refused = await start(small);
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toContain('already has 1 runs');
    // The global quota is 3; this organization's is 5.
    for (let i = 0; i < 5; i++) expect((await start(large)).status).toBe(201);
    expect((await start(large)).status).toBe(429);
    // The runtime role reads the limits but cannot change them (an organization must not raise its own).
    await expect(t.db.app.query('update flow_tenant_limits set queue_quota = 100')).rejects.toThrow(/permission/);
  });

  it('answers 409 to cancelling a finished run and to redriving one that is not dead', async () => {
    const redrive = await call(t.app, 'POST', `/api/v1/flow-runs/${runId}/redrive`, {}, { tenant });
    expect(redrive.status).toBe(409);
    expect(redrive.body.code).toBe('flow_run_state');
    await call(t.app, 'POST', `/api/v1/flow-runs/${runId}/cancel`, {}, { tenant });
    const again = await call(t.app, 'POST', `/api/v1/flow-runs/${runId}/cancel`, {}, { tenant });
    expect(again.status).toBe(409);
  });

  it('answers 400 to ids of the wrong kind and 404 to unknown ones', async () => {
    expect((await call(t.app, 'GET', '/api/v1/flow-runs/wsp_0123', undefined, { tenant })).status).toBe(400);
    const unknown = `frn_${'0'.repeat(32)}`;
    expect((await call(t.app, 'GET', `/api/v1/flow-runs/${unknown}`, undefined, { tenant })).status).toBe(404);
    expect((await call(t.app, 'POST', `/api/v1/flow-runs/${unknown}/cancel`, {}, { tenant })).status).toBe(404);
  });

  it('refuses an invalid cron expression or time zone, and a second schedule of the same flow', async () => {
    const bad = await call(
      t.app,
      'POST',
      '/api/v1/flow-schedules',
      { flow_id: 'test.known', cron: '99 * * * * *' },
      { tenant },
    );
    expect(bad.status).toBe(400);
    const zone = await call(
      t.app,
      'POST',
      '/api/v1/flow-schedules',
      { flow_id: 'test.known', cron: '0 * * * *', timezone: 'Mars/Olympus' },
      { tenant },
    );
    expect(zone.status).toBe(400);
    const body = { flow_id: 'test.known', cron: '0 * * * *' };
    expect((await call(t.app, 'POST', '/api/v1/flow-schedules', body, { tenant })).status).toBe(201);
    expect((await call(t.app, 'POST', '/api/v1/flow-schedules', body, { tenant })).status).toBe(409);
  });

  it('answers 409 to downloading an export that is not ready', async () => {
    const exported = await call(t.app, 'POST', '/api/v1/organization-exports', {}, { tenant });
    const download = await call(t.app, 'GET', `/api/v1/organization-exports/${exported.body.id}/download`, undefined, {
      tenant,
    });
    expect(download.status).toBe(409);
  });
});
