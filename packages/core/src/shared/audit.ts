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

/** Many audit events of one tenant in one insert: what the batched writer calls for hot-path events (ADR 0103). */
export async function insertAuditEvents(tx: Tx, tenantId: string, events: QueuedAudit[]): Promise<void> {
  if (events.length === 0) return;
  const values: unknown[] = [tenantId];
  const tuples = events.map(({ actor, requestId, event, occurredAtMs }, i) => {
    values.push(
      newUuid(),
      new Date(occurredAtMs).toISOString(),
      actor.type,
      actor.id,
      event.action,
      event.resourceType,
      event.resourceId,
      requestId,
      event.data ?? {},
    );
    const b = i * 9 + 1;
    return `($1, ${Array.from({ length: 9 }, (_, k) => `$${b + k + 1}`).join(', ')})`;
  });
  await tx.query(
    `insert into audit_logs (tenant_id, id, occurred_at, actor_type, actor_id, action, resource_type, resource_id,
       request_id, data) values ${tuples.join(', ')}`,
    values,
  );
}
