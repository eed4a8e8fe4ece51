import { newUuid } from '@atrium/contracts';
import type { Tx } from '@atrium/db';
import type { TenantContext } from './context.ts';

export interface AuditEvent {
  action: string;
  resourceType: string;
  resourceId: string | null;
  data?: Record<string, unknown>;
}

/**
 * Records an audit event inside the caller's transaction, so the event exists exactly when the change does.
 * The runtime role may only insert and read audit rows (migration 0001).
 */
export async function recordAudit(tx: Tx, ctx: TenantContext, event: AuditEvent): Promise<void> {
  await tx.query(
    `insert into audit_logs (tenant_id, id, actor_type, actor_id, action, resource_type, resource_id, request_id, data)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      ctx.tenantId,
      newUuid(),
      ctx.actor.type,
      ctx.actor.id,
      event.action,
      event.resourceType,
      event.resourceId,
      ctx.requestId,
      event.data ?? {},
    ],
  );
}

export interface QueuedAudit {
  actor: TenantContext['actor'];
  requestId: string | null;
  event: AuditEvent;
  occurredAtMs: number;
}

/**
 * Many audit events of one tenant in one insert, sent as one JSON parameter: what the batched writer calls for
 * hot-path events (ADR 0103). Built like the journal's insert (insertJournalEntries): nine parameters per row
 * would hold the event loop several µs per event in one piece per batch.
 */
export async function insertAuditEvents(tx: Tx, tenantId: string, events: QueuedAudit[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map(({ actor, requestId, event, occurredAtMs }) => ({
    id: newUuid(),
    at_ms: occurredAtMs,
    actor_type: actor.type,
    actor_id: actor.id,
    action: event.action,
    resource_type: event.resourceType,
    resource_id: event.resourceId,
    request_id: requestId,
    data: event.data ?? {},
  }));
  await tx.query(insertAuditEventsSql, [tenantId, JSON.stringify(rows)]);
}

const insertAuditEventsSql = `
  insert into audit_logs (tenant_id, id, occurred_at, actor_type, actor_id, action, resource_type, resource_id,
                          request_id, data)
  select $1, r.id, to_timestamp(r.at_ms / 1000), r.actor_type, r.actor_id, r.action, r.resource_type, r.resource_id,
         r.request_id, r.data
  from json_to_recordset($2::json) as r(id uuid, at_ms double precision, actor_type text, actor_id text, action text,
                                        resource_type text, resource_id text, request_id text, data jsonb)`;
