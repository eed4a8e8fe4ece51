import { fromPublicId } from '@atrium/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, signUp, type TestApp } from '../../../test/app.ts';
import { tenantSnapshot } from '../../../test/snapshot.ts';

/** Bad input gets a clear 4xx problem document and changes nothing. */
let t: TestApp;
let tenant: string;
let token: string;
let workspace: string;
beforeAll(async () => {
  t = await createTestApp({ bodyLimitBytes: 4096 });
  const owner = await signUp(t.app, { organization: 'Error Org' });
  tenant = owner.organizationId;
  token = owner.accessToken;
  workspace = (await call(t.app, 'POST', '/api/v1/workspaces', { name: 'Existing' }, { tenant })).body.id;
});
afterAll(() => t.close());

const as = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
  call(t.app, method, url, body, { tenant, ...(headers ? { headers } : {}) });

async function expectRefused(
  request: () => Promise<{ status: number; headers: Record<string, unknown>; body: any }>,
  status: number,
  code: string,
) {
  const before = await tenantSnapshot(t.db.owner, fromPublicId('organization', tenant) as string);
  const response = await request();
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, code, type: `/errors#${code}`, request_id: expect.any(String) });
  expect(response.body.title).toEqual(expect.any(String));
  expect(await tenantSnapshot(t.db.owner, fromPublicId('organization', tenant) as string)).toEqual(before);
  return response.body;
}

describe('malformed requests', () => {
  it('refuses a body that is not JSON', async () => {
    await expectRefused(() => as('POST', '/api/v1/workspaces', '{"name": "x"'), 400, 'malformed_json');
  });

  it.each([
    ['a lone high surrogate', '{"name": "a\\ud800b"}'],
    ['a lone low surrogate', '{"name": "a\\udc00b"}'],
    ['a high surrogate at the end of a string', '{"name": "a\\uD83D"}'],
    ['two high surrogates', '{"name": "\\ud83d\\ud83d"}'],
    ['a lone surrogate in a key', '{"name": "ok", "\\ud800": 1}'],
  ])('refuses a body with %s (not I-JSON, and PostgreSQL cannot store it)', async (_case, body) => {
    const problem = await expectRefused(() => as('POST', '/api/v1/workspaces', body), 400, 'malformed_json');
    expect(problem.detail).toMatch(/unpaired surrogate/);
  });

  it('accepts surrogate pairs, and a backslash-u that is only text', async () => {
    const pair = await as('POST', '/api/v1/workspaces', '{"name": "rocket \\ud83d\\ude80"}');
    expect(pair.status, JSON.stringify(pair.body)).toBe(201);
    expect(pair.body.name).toBe('rocket 🚀');
    const text = await as('POST', '/api/v1/workspaces', '{"name": "path C:\\\\ud800"}');
    expect(text.status, JSON.stringify(text.body)).toBe(201);
    expect(text.body.name).toBe('path C:\\ud800');
  });

  it('refuses an empty JSON body', async () => {
    await expectRefused(() => as('POST', '/api/v1/workspaces', ''), 400, 'malformed_json');
  });

  it('refuses a body that is not JSON at all', async () => {
    const request = () =>
      t.app
        .inject({
          method: 'POST',
          url: '/api/v1/workspaces',
          headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` },
          payload: 'name=x',
        })
        .then((r) => ({ status: r.statusCode, headers: r.headers, body: JSON.parse(r.body) }));
    await expectRefused(request, 415, 'unsupported_media_type');
  });

  it('refuses a body over the limit', async () => {
    const body = { name: 'big', description: 'x'.repeat(5000) };
    await expectRefused(() => as('POST', '/api/v1/workspaces', body), 413, 'payload_too_large');
  });
});

describe('invalid fields', () => {
  it('refuses wrong types without coercing them', async () => {
    const problem = await expectRefused(() => as('POST', '/api/v1/workspaces', { name: 42 }), 400, 'validation_failed');
    expect(problem.errors[0]).toMatchObject({ path: '/body/name', message: 'must be string' });
  });

  it('refuses unknown fields', async () => {
    const problem = await expectRefused(
      () => as('POST', '/api/v1/workspaces', { name: 'ok', tenant_id: 'someone-else' }),
      400,
      'validation_failed',
    );
    expect(problem.errors[0].message).toContain('tenant_id');
  });

  it('refuses over-long and empty strings', async () => {
    await expectRefused(() => as('POST', '/api/v1/workspaces', { name: 'x'.repeat(201) }), 400, 'validation_failed');
    await expectRefused(() => as('POST', '/api/v1/workspaces', { name: '' }), 400, 'validation_failed');
  });

  it('refuses an empty patch', async () => {
    await expectRefused(() => as('PATCH', `/api/v1/workspaces/${workspace}`, {}), 400, 'validation_failed');
  });

  it('refuses a bad slug', async () => {
    await expectRefused(
      () => as('POST', '/api/v1/organizations', { name: 'x', slug: 'Not A Slug!' }),
      400,
      'validation_failed',
    );
  });

  it('refuses ids of the wrong kind or shape', async () => {
    await expectRefused(
      () => as('GET', '/api/v1/workspaces/prj_00000000000000000000000000000000'),
      400,
      'validation_failed',
    );
    await expectRefused(() => as('GET', "/api/v1/workspaces/1' or '1'='1"), 400, 'validation_failed');
    await expectRefused(() => as('GET', '/api/v1/projects?workspace_id=nope'), 400, 'validation_failed');
    await expectRefused(() => as('GET', '/api/v1/projects?limit=1000'), 400, 'validation_failed');
    await expectRefused(() => as('GET', '/api/v1/projects?cursor=bm90LWEtdXVpZA'), 400, 'validation_failed');
  });
});

describe('conflicts and missing things', () => {
  it('answers 404 for an unknown id', async () => {
    await expectRefused(() => as('GET', '/api/v1/workspaces/wsp_0193aaaaaaaa7aaa8aaaaaaaaaaaaaaa'), 404, 'not_found');
    await expectRefused(
      () => as('PATCH', '/api/v1/projects/prj_0193aaaaaaaa7aaa8aaaaaaaaaaaaaaa', { name: 'x' }),
      404,
      'not_found',
    );
  });

  it('answers 404 for a project in an unknown workspace', async () => {
    const body = { workspace_id: 'wsp_0193aaaaaaaa7aaa8aaaaaaaaaaaaaaa', name: 'Orphan' };
    await expectRefused(() => as('POST', '/api/v1/projects', body), 404, 'not_found');
  });

  it("answers 404 for a project in another tenant's workspace", async () => {
    const other = await createOrganization(t.app, 'Other');
    const foreign = (await call(t.app, 'POST', '/api/v1/workspaces', { name: 'Theirs' }, { tenant: other })).body.id;
    await expectRefused(
      () => as('POST', '/api/v1/projects', { workspace_id: foreign, name: 'Sneaky' }),
      404,
      'not_found',
    );
  });

  it('refuses a duplicate name and a taken slug', async () => {
    await expectRefused(() => as('POST', '/api/v1/workspaces', { name: 'Existing' }), 409, 'conflict');
    await as('POST', '/api/v1/organizations', { name: 'Slugged', slug: 'taken-slug' });
    await expectRefused(
      () => as('POST', '/api/v1/organizations', { name: 'Again', slug: 'taken-slug' }),
      409,
      'slug_taken',
    );
  });

  it('refuses to delete a workspace that still has projects', async () => {
    await as('POST', '/api/v1/projects', { workspace_id: workspace, name: 'Keeps it busy' });
    await expectRefused(() => as('DELETE', `/api/v1/workspaces/${workspace}`), 409, 'resource_in_use');
  });

  it('refuses an Idempotency-Key reused for another request', async () => {
    const headers = { 'idempotency-key': 'reused-key' };
    expect((await as('POST', '/api/v1/workspaces', { name: 'First' }, headers)).status).toBe(201);
    await expectRefused(
      () => as('POST', '/api/v1/workspaces', { name: 'Second' }, headers),
      422,
      'idempotency_key_reused',
    );
  });

  it('answers unknown routes with a problem document', async () => {
    await expectRefused(() => as('GET', '/api/v1/nothing-here'), 404, 'route_not_found');
  });
});

describe('authentication', () => {
  it('refuses tenant routes without credentials or with bad ones', async () => {
    await expectRefused(() => call(t.app, 'GET', '/api/v1/workspaces'), 401, 'unauthenticated');
    await expectRefused(
      () => call(t.app, 'GET', '/api/v1/workspaces', undefined, { token: 'not-a-jwt' }),
      401,
      'unauthenticated',
    );
    await expectRefused(
      () => call(t.app, 'POST', '/api/v1/workspaces', { name: 'x' }, { headers: { 'x-atrium-dev-tenant': tenant } }),
      401,
      'unauthenticated',
    );
  });
});
