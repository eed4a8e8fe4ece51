import { fromPublicId } from '@atrium/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';
import { runCli } from '../../../test/processes.ts';

/**
 * `atrium flows limits` as an operator runs it, a real process on the test database: it shows and sets one
 * organization's override of the flow limits, and the API applies it at the next enqueue.
 */
let t: TestApp;
let org: string;
beforeAll(async () => {
  t = await createTestApp({ flowTenantQueueQuota: 50, flowTenantConcurrency: 8 });
  org = await createOrganization(t.app, 'Limits Inc');
  await t.db.owner.query(`insert into flow_definitions (id, version) values ('test.limits', 1) on conflict do nothing`);
});
afterAll(() => t.close());

async function limits(args: string[], env: Record<string, string> = { DATABASE_URL: t.db.ownerUrl }) {
  const cli = runCli(['flows', 'limits', ...args], {
    LOG_LEVEL: 'warn',
    ATRIUM_FLOW_TENANT_QUEUE_QUOTA: '50',
    ATRIUM_FLOW_TENANT_CONCURRENCY: '8',
    ...env,
  });
  return { code: await cli.exit(), output: cli.output().trim() };
}

const row = async () =>
  (
    await t.db.owner.query('select concurrency, queue_quota from flow_tenant_limits where tenant_id = $1', [
      fromPublicId('organization', org),
    ])
  ).rows;

describe('atrium flows limits', () => {
  it('shows the defaults, sets one limit, keeps the other, and returns a limit to its default', async () => {
    expect(await limits(['--tenant', org])).toEqual({
      code: 0,
      output: `${org}: concurrency default (8), queue quota default (50)`,
    });
    expect(await row()).toEqual([]);
    expect((await limits(['--tenant', org, '--concurrency', '3'])).output).toBe(
      `${org}: concurrency 3 (default 8), queue quota default (50)`,
    );
    expect((await limits(['--tenant', org, '--queue-quota', '0'])).output).toBe(
      `${org}: concurrency 3 (default 8), queue quota 0 (default 50)`,
    );
    expect(await row()).toEqual([{ concurrency: 3, queue_quota: 0 }]);
    // A quota of 0 stops new runs of this organization at once.
    await t.db.owner.query('delete from flow_queue where tenant_id = $1', [fromPublicId('organization', org)]);
    const refused = await call(t.app, 'POST', '/api/v1/flows/test.limits/runs', {}, { tenant: org });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('flow_queue_full');
    expect((await limits(['--tenant', org, '--queue-quota', 'default'])).output).toBe(
      `${org}: concurrency 3 (default 8), queue quota default (50)`,
    );
    expect(await row()).toEqual([{ concurrency: 3, queue_quota: null }]);
    expect((await call(t.app, 'POST', '/api/v1/flows/test.limits/runs', {}, { tenant: org })).status).toBe(201);
  });

  it('refuses malformed arguments (exit 2), an unknown organization or no owner URL (exit 1), and changes nothing', async () => {
    const before = await row();
    for (const args of [
      [],
      ['--tenant', 'acme'],
      ['--tenant', org, '--concurrency', '0'],
      ['--tenant', org, '--concurrency', '2.5'],
      ['--tenant', org, '--queue-quota', '-1'],
      ['--tenant', org, '--queue-quota', '1; drop table flow_tenant_limits'],
      ['--tenant', org, '--concurrency', '100001'],
      ['--tenant', org, '--surprise', '1'],
    ]) {
      const result = await limits(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.output).toMatch(/--tenant|--concurrency|--queue-quota|surprise/);
    }
    const unknown = await limits(['--tenant', 'org_00000000000000000000000000000000', '--concurrency', '4']);
    expect(unknown).toEqual({ code: 1, output: 'atrium: no organization org_00000000000000000000000000000000' });
    const appOnly = await limits(['--tenant', org, '--concurrency', '4'], { DATABASE_APP_URL: t.db.appUrl });
    expect(appOnly.code).toBe(1);
    expect(appOnly.output).toContain('DATABASE_URL');
    expect(await row()).toEqual(before);
  });
});
