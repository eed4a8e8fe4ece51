import { newUuid } from '@atrium/contracts';
import type { Tx } from '@atrium/db';
import type { AuditLogRow } from '../../platform/audit-logs.service.ts';

export type AuditEventRow = AuditLogRow;

export interface ClaimedDelivery {
  id: string;
  attempts: number;
  events: AuditEventRow[];
}

export type Claimed =
  | { kind: 'claimed'; delivery: ClaimedDelivery }
  /** A batch waits for its retry time, or another relay is calling the receiver with it right now. */
  | { kind: 'waiting'; until: Date; attempts: number; lastError: string | null }
  | { kind: 'idle' }
  /**
   * Nothing to send yet, but events are written by transactions younger than one still running: they are sent
   * once every older transaction has ended, so that one committing late is not passed over.
   */
  | { kind: 'held' };

/**
 * The batch to deliver next, leased for `leaseMs`: the pending one when its retry is due, or else a new one made
 * of the events after the cursor (the cursor moves past them in this transaction). The cursor row is locked
 * first, so two relays of one tenant take turns here; neither holds anything once this transaction commits.
 */
export async function claimAuditBatch(tx: Tx, tenantId: string, batchSize: number, leaseMs: number): Promise<Claimed> {
  const cursor = await tx.query<{ last_audit_id: string | null; last_tx_id: string | null }>(
    `insert into audit_relay_cursors (tenant_id) values ($1)
     on conflict (tenant_id, id) do update set updated_at = audit_relay_cursors.updated_at
     returning last_audit_id, last_tx_id::text`,
    [tenantId],
  );
  const pending = await tx.query<{
    id: string;
    audit_ids: string[];
    attempts: number;
    due: boolean;
    until: Date;
    last_error: string | null;
  }>(
    `select id, audit_ids, attempts, last_error,
       next_attempt_at <= now() and (leased_until is null or leased_until < now()) as due,
       greatest(next_attempt_at, coalesce(leased_until, next_attempt_at)) as until
     from audit_deliveries where tenant_id = $1 and target = 'webhook'`,
    [tenantId],
  );
  const existing = pending.rows[0];
  if (existing && !existing.due) {
    return { kind: 'waiting', until: existing.until, attempts: existing.attempts, lastError: existing.last_error };
  }
  let id: string;
  let auditIds: string[];
  let attempts: number;
  if (existing) {
    ({ id, attempts } = existing);
    auditIds = existing.audit_ids;
    attempts += 1;
    await tx.query(
      `update audit_deliveries set attempts = $3, leased_until = now() + $4 * interval '1 millisecond'
       where tenant_id = $1 and id = $2`,
      [tenantId, id, attempts, leaseMs],
    );
  } else {
    // Commit order: only events of transactions older than every running one (the snapshot's xmin), by
    // (transaction, id). No transaction can still commit an event before the cursor (migration 0007).
    const afterId = cursor.rows[0]?.last_audit_id ?? null;
    const afterTx = cursor.rows[0]?.last_tx_id ?? null;
    const after = `($2::uuid is null or (tx_id, id) > ($3::xid8, $2::uuid))`;
    const next = await tx.query<{ id: string; tx_id: string; held: boolean }>(
      `select id, tx_id::text, tx_id >= pg_snapshot_xmin(pg_current_snapshot()) as held from audit_logs
       where tenant_id = $1 and ${after} order by tx_id, id limit $4`,
      [tenantId, afterId, afterTx, batchSize],
    );
    const ready = next.rows.filter((row) => !row.held);
    const last = ready.at(-1);
    if (!last) return { kind: next.rows.length > 0 ? 'held' : 'idle' };
    id = newUuid();
    auditIds = ready.map((row) => row.id);
    attempts = 1;
    await tx.query(
      `insert into audit_deliveries (tenant_id, id, audit_ids, attempts, leased_until)
       values ($1, $2, $3, 1, now() + $4 * interval '1 millisecond')`,
      [tenantId, id, auditIds, leaseMs],
    );
    await tx.query(
      `update audit_relay_cursors set last_audit_id = $2, last_tx_id = $3::xid8, updated_at = now()
       where tenant_id = $1 and id = 'webhook'`,
      [tenantId, last.id, last.tx_id],
    );
  }
  const events = await tx.query<AuditEventRow>(
    `select id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, request_id, data
     from audit_logs where tenant_id = $1 and id = any($2::uuid[]) order by id`,
    [tenantId, auditIds],
  );
  return { kind: 'claimed', delivery: { id, attempts, events: events.rows } };
}

/** The receiver accepted the batch: it is done (deleted) and counted on the cursor. */
export async function markDelivered(tx: Tx, tenantId: string, delivery: ClaimedDelivery) {
  const { rowCount } = await tx.query('delete from audit_deliveries where tenant_id = $1 and id = $2', [
    tenantId,
    delivery.id,
  ]);
  if (rowCount === 0) return;
  await tx.query(
    `update audit_relay_cursors set relayed_count = relayed_count + $2, updated_at = now()
     where tenant_id = $1 and id = 'webhook'`,
    [tenantId, delivery.events.length],
  );
}

/** The call failed: the batch is tried again after `retryAt` (by whichever relay runs then). */
export async function markFailed(tx: Tx, tenantId: string, delivery: ClaimedDelivery, error: string, retryAt: Date) {
  await tx.query(
    `update audit_deliveries set leased_until = null, next_attempt_at = $4, last_error = $5
     where tenant_id = $1 and id = $2 and attempts = $3`,
    [tenantId, delivery.id, delivery.attempts, retryAt, error],
  );
}
