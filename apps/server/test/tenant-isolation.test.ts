import { fromPublicId, toPublicId } from '@atrium/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createOrganization, createTestApp, type TestApp } from '../../../test/app.ts';
import { factories } from '../../../test/factories.ts';
import { tenantSnapshot } from '../../../test/snapshot.ts';

/**
 * The shared isolation suite. It walks every route the application registered, so a new route is covered
 * without anyone adding it here: tenant B using tenant A's ids gets 404 and tenant A's data stays unchanged;
 * tenant B's lists never show tenant A's resources.
 */
let t: TestApp;
let tenantA: string;
let tenantB: string;
const idsOfA: string[] = [];
let tenantRoutes: TestApp['app']['atriumRoutes'];
const zeroUuid = '00000000-0000-0000-0000-000000000000';

beforeAll(async () => {
  t = await createTestApp();
  tenantA = await createOrganization(t.app, 'Tenant A');
  tenantB = await createOrganization(t.app, 'Tenant B');
  tenantRoutes = t.app.atriumRoutes.filter((route) => route.auth === 'tenant');
});
afterAll(() => t.close());

describe('tenant isolation', () => {
  it('covers the routes the application registered', () => {
    expect(tenantRoutes.length).toBeGreaterThan(10);
  });

  it('answers 401 on every route under /api/ that is not public, to no credentials and to forged ones', async () => {
    // Authentication is a hook each /api/ route gets when it is registered (installAuth): a route that missed it
    // would show here.
    const guarded = t.app.atriumRoutes.filter((route) => route.url.startsWith('/api/') && route.auth !== 'public');
    expect(guarded.length).toBeGreaterThan(40);
    const before = await tenantSnapshot(t.db.owner, fromOrg(tenantA));
    for (const route of guarded) {
      let url = route.url;
      for (const [param, kind] of Object.entries(route.idParams))
        url = url.replace(`:${param}`, toPublicId(kind, zeroUuid));
      url = url.replace(/:[A-Za-z_]+/g, 'x');
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : (route.bodyExample ?? {});
      for (const authorization of [undefined, 'Bearer forged.token.value', 'License lk_forged']) {
        const headers: Record<string, string> = authorization ? { authorization } : {};
        const response = await call(t.app, route.method, url, body, { headers });
        expect(response.status, `${route.method} ${route.url} with ${authorization ?? 'nothing'}`).toBe(401);
        expect(response.body.code).toBe('unauthenticated');
      }
    }
    expect(await tenantSnapshot(t.db.owner, fromOrg(tenantA))).toEqual(before);
  });

  it("answers 404 to tenant B for every route given tenant A's ids, and changes nothing of A", async () => {
    const withIds = tenantRoutes.filter((route) => Object.keys(route.idParams).length > 0);
    expect(withIds.length).toBeGreaterThan(5);
    for (const route of withIds) {
      let url = route.url;
      for (const [param, kind] of Object.entries(route.idParams)) {
        const factory = factories[kind];
        if (!factory) throw new Error(`no factory for id kind "${kind}" (route ${route.method} ${route.url})`);
        const id = await factory(t.app, tenantA);
        idsOfA.push(id);
        url = url.replace(`:${param}`, id);
      }
      const before = await tenantSnapshot(t.db.owner, fromOrg(tenantA));
      const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : route.bodyExample;
      if (body === undefined && route.method !== 'GET' && route.method !== 'DELETE') {
        throw new Error(`${route.method} ${route.url} needs an example body (schema examples) for this suite`);
      }
      const response = await call(t.app, route.method, url, body, { tenant: tenantB });
      expect(response.status, `${route.method} ${route.url} as another tenant`).toBe(404);
      expect(response.body.code).toBe('not_found');
      expect(await tenantSnapshot(t.db.owner, fromOrg(tenantA)), `${route.method} ${route.url}`).toEqual(before);
    }
  });

  it("never lists tenant A's resources to tenant B", async () => {
    const lists = tenantRoutes.filter((route) => route.method === 'GET' && Object.keys(route.idParams).length === 0);
    expect(lists.length).toBeGreaterThan(3);
    for (const route of lists) {
      const response = await call(t.app, 'GET', route.url, undefined, { tenant: tenantB });
      expect(response.status, route.url).toBe(200);
      const text = JSON.stringify(response.body);
      for (const id of [tenantA, ...idsOfA]) expect(text, `${route.url} leaks ${id}`).not.toContain(id.slice(4));
    }
  });
});

const fromOrg = (publicId: string) => fromPublicId('organization', publicId) as string;
