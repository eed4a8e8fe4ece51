import {
  CreatedLicense,
  CreateLicense,
  FingerprintView,
  fromPublicId,
  IdParams,
  License,
  Page,
  PageQuery,
  PublicId,
  UpdateLicense,
  UsageQuery,
  UsageReport,
} from '@atrium/contracts';
import { type Licensing, licenseAnalytics } from '@atrium/core';
import Type from 'typebox';
import { tenantContext } from '../plugins/auth.ts';
import { type App, problems, type RouteDeps, tenantRouteProblems } from './shared.ts';

const tags = ['licensing'];
const Params = IdParams('license');
const FingerprintParams = Type.Object(
  { id: PublicId('license'), fingerprint_id: PublicId('fingerprint') },
  { additionalProperties: false },
);

/** License administration: admins create, change, suspend and delete licenses and deactivate machines. */
export function licenseRoutes(app: App, { pool, licensing }: RouteDeps & { licensing: Licensing }) {
  const { admin } = licensing;
  const uuid = (id: string) => fromPublicId('license', id) as string;
  const config = { role: 'admin' as const };

  app.post(
    '/api/v1/licenses',
    {
      config,
      schema: {
        tags,
        summary: 'Create a license; the response carries its key, shown only once',
        body: CreateLicense,
        response: { 201: CreatedLicense, ...problems(...tenantRouteProblems, 413, 415) },
      },
    },
    async (request, reply) => reply.code(201).send(await admin.create(tenantContext(request, pool), request.body)),
  );

  app.get(
    '/api/v1/licenses',
    {
      config,
      schema: {
        tags,
        summary: 'List licenses, newest first',
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(License), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => admin.list(tenantContext(request, pool), { limit: 20, ...request.query }),
  );

  app.get(
    '/api/v1/licenses/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Get a license',
        params: Params,
        response: { 200: License, ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => admin.get(tenantContext(request, pool), uuid(request.params.id)),
  );

  app.patch(
    '/api/v1/licenses/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Change a license: seats, expiry, policy, suspension',
        params: Params,
        body: UpdateLicense,
        response: { 200: License, ...problems(...tenantRouteProblems, 404, 413, 415) },
      },
    },
    async (request) => admin.update(tenantContext(request, pool), uuid(request.params.id), request.body),
  );

  app.delete(
    '/api/v1/licenses/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Delete a license and its live leases',
        params: Params,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request, reply) => {
      const { storeNotCleared } = await admin.delete(tenantContext(request, pool), uuid(request.params.id));
      if (storeNotCleared) {
        request.log.warn(
          { err: storeNotCleared, license_id: request.params.id },
          'license deleted, but its seat store state was not: `atrium licenses reconcile` removes it',
        );
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/licenses/:id/fingerprints',
    {
      config,
      schema: {
        tags,
        summary: 'Machines registered on a node-locked license',
        params: Params,
        response: { 200: Type.Object({ data: Type.Array(FingerprintView) }), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => admin.listFingerprints(tenantContext(request, pool), uuid(request.params.id)),
  );

  app.delete(
    '/api/v1/licenses/:id/fingerprints/:fingerprint_id',
    {
      config,
      schema: {
        tags,
        summary: 'Deactivate a machine, freeing its node-locked slot',
        params: FingerprintParams,
        response: { 204: Type.Null(), ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request, reply) => {
      const fingerprintId = fromPublicId('fingerprint', request.params.fingerprint_id) as string;
      await admin.deactivateFingerprint(tenantContext(request, pool), uuid(request.params.id), fingerprintId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/analytics/usage',
    {
      config,
      schema: {
        tags,
        summary: 'Per license per day: peak concurrent seats, acquisitions, denials, average session length',
        querystring: UsageQuery,
        response: { 200: UsageReport, ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => {
      const to = request.query.to ?? new Date().toISOString();
      const from = request.query.from ?? new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      return licenseAnalytics.usage(tenantContext(request, pool), {
        from,
        to,
        licenseId: request.query.license_id ? fromPublicId('license', request.query.license_id) : null,
      });
    },
  );
}
