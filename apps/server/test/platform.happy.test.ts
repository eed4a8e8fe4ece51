import { fromPublicId } from '@atrium/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';

let t: TestApp;
let tenant: string;
beforeAll(async () => {
  t = await createTestApp();
  tenant = await createOrganization(t.app, 'Happy Org');
});
afterAll(() => t.close());

const as = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
  call(t.app, method, url, body, { tenant, ...(headers ? { headers } : {}) });

describe('organizations', () => {
  it('creates one with a derived slug, reads, renames and lists it', async () => {
    const created = await as('POST', '/api/v1/organizations', { name: 'Globex Corp' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Globex Corp',
      slug: expect.stringMatching(/^globex-corp-[0-9a-f]{8}$/),
    });
    const id = created.body.id;
    // The creator is its owner and can switch to it with X-Tenant-ID.
    const own = { tenant, headers: { 'x-tenant-id': id } };
    expect((await call(t.app, 'GET', `/api/v1/organizations/${id}`, undefined, own)).body.name).toBe('Globex Corp');
    const renamed = await call(t.app, 'PATCH', `/api/v1/organizations/${id}`, { slug: 'globex' }, own);
    expect(renamed.body).toMatchObject({ slug: 'globex', name: 'Globex Corp' });
    const list = await call(t.app, 'GET', '/api/v1/organizations', undefined, own);
    expect(list.body.data.map((org: { id: string }) => org.id)).toEqual([id]);
  });

  it('creates an organization once per Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'org-create-1' };
    const first = await as('POST', '/api/v1/organizations', { name: 'Initech' }, headers);
    const again = await as('POST', '/api/v1/organizations', { name: 'Initech' }, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('deletes an organization with everything it owns', async () => {
    const id = await createOrganization(t.app, 'Short Lived');
    await call(t.app, 'POST', '/api/v1/workspaces', { name: 'W' }, { tenant: id });
    expect((await call(t.app, 'DELETE', `/api/v1/organizations/${id}`, undefined, { tenant: id })).status).toBe(204);
    const uuid = fromPublicId('organization', id);
    const count = async (table: string, column: string) =>
      (await t.db.owner.query(`select count(*)::int as n from ${table} where ${column} = $1`, [uuid])).rows[0].n;
    expect(await count('organizations', 'id')).toBe(0);
    expect(await count('workspaces', 'tenant_id')).toBe(0);
    expect(await count('audit_logs', 'tenant_id')).toBe(0);
  });
});

describe('workspaces and projects', () => {
  it('supports the whole life cycle with audit events for each change', async () => {
    const workspace = await as('POST', '/api/v1/workspaces', { name: 'Engineering', description: 'Builders' });
    expect(workspace.status).toBe(201);
    expect(workspace.body.id).toMatch(/^wsp_[0-9a-f]{32}$/);
    const project = await as('POST', '/api/v1/projects', { workspace_id: workspace.body.id, name: 'Atlas' });
    expect(project.status).toBe(201);
    expect(project.body).toMatchObject({ workspace_id: workspace.body.id, name: 'Atlas', description: null });

    const patched = await as('PATCH', `/api/v1/projects/${project.body.id}`, { description: 'Maps' });
    expect(patched.body).toMatchObject({ name: 'Atlas', description: 'Maps' });
    const cleared = await as('PATCH', `/api/v1/workspaces/${workspace.body.id}`, { description: null });
    expect(cleared.body).toMatchObject({ name: 'Engineering', description: null });

    expect((await as('GET', `/api/v1/projects/${project.body.id}`)).body.description).toBe('Maps');
    expect((await as('DELETE', `/api/v1/projects/${project.body.id}`)).status).toBe(204);
    expect((await as('GET', `/api/v1/projects/${project.body.id}`)).status).toBe(404);
    expect((await as('DELETE', `/api/v1/workspaces/${workspace.body.id}`)).status).toBe(204);

    const audit = await as('GET', '/api/v1/audit-logs?limit=100');
    const actions = audit.body.data.map((event: { action: string }) => event.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'workspace.created',
        'project.created',
        'project.updated',
        'workspace.updated',
        'project.deleted',
        'workspace.deleted',
      ]),
    );
    const filtered = await as('GET', `/api/v1/audit-logs?resource_id=${project.body.id}`);
    expect(filtered.body.data.map((event: { action: string }) => event.action)).toEqual([
      'project.deleted',
      'project.updated',
      'project.created',
    ]);
  });

  it('filters projects by workspace and pages through them with a cursor', async () => {
    const a = (await as('POST', '/api/v1/workspaces', { name: 'Paging A' })).body.id;
    const b = (await as('POST', '/api/v1/workspaces', { name: 'Paging B' })).body.id;
    for (let i = 0; i < 5; i++) await as('POST', '/api/v1/projects', { workspace_id: a, name: `a${i}` });
    await as('POST', '/api/v1/projects', { workspace_id: b, name: 'b0' });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?workspace_id=${a}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await as('GET', `/api/v1/projects${query}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((project: { name: string }) => project.name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['a4', 'a3', 'a2', 'a1', 'a0']);
  });

  it('creates a project once per Idempotency-Key, even when retried concurrently', async () => {
    const workspace = (await as('POST', '/api/v1/workspaces', { name: 'Idempotent' })).body.id;
    const headers = { 'idempotency-key': 'create-project-42' };
    const body = { workspace_id: workspace, name: 'Once' };
    const responses = await Promise.all([1, 2, 3, 4].map(() => as('POST', '/api/v1/projects', body, headers)));
    const statuses = responses.map((response) => response.status);
    const successes = responses.filter((response) => response.status === 201);
    expect(successes.length).toBeGreaterThanOrEqual(1);
    // A retry that arrives while the first is still committing is told to retry, never given a second project.
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    expect(new Set(successes.map((response) => response.body.id)).size).toBe(1);
    const list = await as('GET', `/api/v1/projects?workspace_id=${workspace}`);
    expect(list.body.data).toHaveLength(1);
  });

  it('stores hostile strings literally', async () => {
    const name = "Robert'); drop table projects; -- <script>alert(1)</script>";
    const workspace = await as('POST', '/api/v1/workspaces', { name });
    expect(workspace.status).toBe(201);
    expect((await as('GET', `/api/v1/workspaces/${workspace.body.id}`)).body.name).toBe(name);
    const { rows } = await t.db.owner.query("select to_regclass('projects') is not null as ok");
    expect(rows[0].ok).toBe(true);
  });
});
