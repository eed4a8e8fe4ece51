import { AuditLog, AuditLogQuery, Page, PageQuery } from '@atrium/contracts';
import { auditLogs } from '@atrium/core';
import Type from 'typebox';
import { tenantContext } from '../plugins/auth.ts';
import { type App, problems, type RouteDeps, tenantRouteProblems } from './shared.ts';

export function auditLogRoutes(app: App, { pool }: RouteDeps) {
  app.get(
    '/api/v1/audit-logs',
    {
      schema: {
        tags: ['audit'],
        summary: "The organization's audit trail, newest first",
        querystring: Type.Object({ ...PageQuery, ...AuditLogQuery }, { additionalProperties: false }),
        response: { 200: Page(AuditLog), ...problems(...tenantRouteProblems) },
      },
    },
    async (request) => {
      const { limit, cursor, resource_type, resource_id, ...rest } = request.query;
      const filter = { ...rest, resourceType: resource_type, resourceId: resource_id };
      return auditLogs.listAuditLogs(tenantContext(request, pool), filter, { limit: limit ?? 20, cursor });
    },
  );
}
