import {
  DailyUsageReport,
  FlowRun,
  fromPublicId,
  IdParams,
  NoInput,
  OrganizationExport,
  ScheduleDeletion,
} from '@atrium/contracts';
import { platformJobs } from '@atrium/core';
import Type from 'typebox';
import { tenantContext } from '../plugins/auth.ts';
import { type App, problems, type RouteDeps, tenantRouteProblems } from './shared.ts';

const tags = ['organization data'];
const ExportParams = IdParams('organizationExport');

/** Outputs of the platform's own flows: usage reports, GDPR exports, delayed organization deletion. */
export function platformJobRoutes(app: App, { pool }: RouteDeps) {
  const exportId = (id: string) => fromPublicId('organizationExport', id) as string;

  app.get(
    '/api/v1/usage-reports',
    {
      schema: {
        tags,
        summary: 'Daily usage reports of this organization, newest first',
        response: { 200: Type.Object({ data: Type.Array(DailyUsageReport) }), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => ({ data: await platformJobs.listDailyUsageReports(tenantContext(request, pool)) }),
  );

  app.get(
    '/api/v1/usage-reports/csv',
    {
      schema: {
        tags,
        summary: 'Download daily usage reports as CSV (Default: the last 31 days)',
        querystring: Type.Object(
          { from: Type.Optional(Type.String({ format: 'date' })), to: Type.Optional(Type.String({ format: 'date' })) },
          { additionalProperties: false },
        ),
        produces: ['text/csv'],
        response: { 200: Type.String(), ...problems(...tenantRouteProblems) },
      },
    },
    async (request, reply) => {
      const to = request.query.to ?? new Date().toISOString().slice(0, 10);
      const from = request.query.from ?? new Date(Date.parse(to) - 30 * 86_400_000).toISOString().slice(0, 10);
      const csv = await platformJobs.usageReportCsv(tenantContext(request, pool), from, to);
      reply.header('content-disposition', `attachment; filename="usage-${from}-${to}.csv"`);
      return reply.type('text/csv; charset=utf-8').send(csv);
    },
  );

  app.post(
    '/api/v1/organization-exports',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: "Export all of the organization's data as a JSON archive (GDPR); built in the background",
        body: NoInput,
        response: { 202: OrganizationExport, ...problems(...tenantRouteProblems, 413, 415) },
      },
    },
    async (request, reply) => reply.code(202).send(await platformJobs.requestExport(tenantContext(request, pool))),
  );

  app.get(
    '/api/v1/organization-exports/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Get an export (status pending or ready)',
        params: ExportParams,
        response: { 200: OrganizationExport, ...problems(...tenantRouteProblems, 404) },
      },
    },
    async (request) => platformJobs.getExport(tenantContext(request, pool), exportId(request.params.id)),
  );

  app.get(
    '/api/v1/organization-exports/:id/download',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Download a ready export',
        params: ExportParams,
        response: { 200: Type.Unknown(), ...problems(...tenantRouteProblems, 404, 409) },
      },
    },
    async (request, reply) => {
      const archive = await platformJobs.exportArchive(tenantContext(request, pool), exportId(request.params.id));
      reply.header('content-disposition', `attachment; filename="organization-export-${request.params.id}.json"`);
      return reply.type('application/json').send(JSON.stringify(archive));
    },
  );

  app.post(
    '/api/v1/organization-deletion',
    {
      config: { role: 'owner' },
      schema: {
        tags,
        summary: 'Delete the organization after a grace period; cancel the returned run to keep it',
        body: ScheduleDeletion,
        response: { 202: FlowRun, ...problems(...tenantRouteProblems, 413, 415) },
      },
    },
    async (request, reply) => {
      const delay = request.body.delay_seconds ?? 7 * 86_400;
      return reply.code(202).send(await platformJobs.scheduleDeletion(tenantContext(request, pool), delay));
    },
  );
}
