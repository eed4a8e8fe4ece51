import { type AuditLog, toPublicId } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import type { TenantContext } from '../shared/context.ts';
import { decodeCursor, type Page, type PageRequest, toPage } from '../shared/pagination.ts';

export interface AuditLogFilter {
  action?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** An audit_logs row as selected (also the events a webhook delivery carries). */
export interface AuditLogRow {
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
}

function toAuditLog(row: AuditLogRow): AuditLog {
  return {
    id: toPublicId('auditLog', row.id),
    occurred_at: row.occurred_at.toISOString(),
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action,
    resource: { type: row.resource_type, id: row.resource_id },
    request_id: row.request_id,
    data: row.data,
  };
}

/** Newest first. Every filter is optional; together they narrow the result. */
export async function listAuditLogs(
  ctx: TenantContext,
  filter: AuditLogFilter,
  page: PageRequest,
): Promise<Page<AuditLog>> {
  const after = decodeCursor(page.cursor);
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<AuditLogRow>(
      `select id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, request_id, data
       from audit_logs
       where tenant_id = $1
         and ($2::text is null or action = $2)
         and ($3::text is null or resource_type = $3)
         and ($4::text is null or resource_id = $4)
         and ($5::timestamptz is null or occurred_at >= $5)
         and ($6::timestamptz is null or occurred_at < $6)
         and ($7::uuid is null or id < $7)
       order by id desc limit $8`,
      [
        ctx.tenantId,
        filter.action ?? null,
        filter.resourceType ?? null,
        filter.resourceId ?? null,
        filter.from ?? null,
        filter.to ?? null,
        after,
        page.limit + 1,
      ],
    ),
  );
  return toPage(rows, page.limit, toAuditLog);
}
