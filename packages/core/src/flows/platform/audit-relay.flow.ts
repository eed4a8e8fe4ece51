import { createHmac } from 'node:crypto';
import type { Pool } from '@atrium/db';
import { defineFlow } from '../definition.ts';

export interface AuditWebhook {
  url: string;
  secret: string;
}

/** Header a receiver checks: `sha256=` + HMAC-SHA256 of the raw body with the shared secret. */
export function signAuditBody(secret: string, body: string) {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const batchSize = 500;

/**
 * audit_logs is the outbox: each change wrote its event in its own transaction. This flow (every 10 s per
 * organization) posts the events after the tenant's cursor to the webhook, then moves the cursor. Delivery is
 * at-least-once: a receiver dedupes by event id (and by the batch's Idempotency-Key).
 */
export function auditRelayFlow(webhook: AuditWebhook | null, fetchImpl: typeof fetch = fetch) {
  return defineFlow({
    id: 'audit.relay',
    version: 1,
    // Scheduled only when a webhook is configured: otherwise every organization would get a run every 10 s.
    ...(webhook ? { schedule: { cron: '*/10 * * * * *', timezone: 'UTC' } } : {}),
    retry: { maxAttempts: 3, initialDelayMs: 2000 },
    run: async (ctx) => {
      if (!webhook) return { relayed: 0, reason: 'ATRIUM_AUDIT_WEBHOOK_URL is not set' };
      let relayed = 0;
      for (let round = 0; round < 20; round++) {
        const sent = await ctx.withTenant(async (tx) => {
          const cursor = await tx.query<{ last_audit_id: string | null }>(
            `insert into audit_relay_cursors (tenant_id) values ($1)
             on conflict (tenant_id, id) do update set updated_at = audit_relay_cursors.updated_at
             returning last_audit_id`,
            [ctx.tenantId],
          );
          const after = cursor.rows[0]?.last_audit_id ?? null;
          const { rows } = await tx.query<{ id: string }>(
            `select id, occurred_at, actor_type, actor_id, action, resource_type, resource_id, request_id, data
             from audit_logs where tenant_id = $1 and ($2::uuid is null or id > $2) order by id limit $3`,
            [ctx.tenantId, after, batchSize],
          );
          const last = rows.at(-1);
          if (!last) return 0;
          const body = JSON.stringify({ organization_id: ctx.tenantId, events: rows });
          const response = await fetchImpl(webhook.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-atrium-signature': signAuditBody(webhook.secret, body),
              'idempotency-key': `${ctx.tenantId}:${last.id}`,
            },
            body,
            signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]),
          });
          if (!response.ok) throw new Error(`audit webhook answered ${response.status}`);
          await tx.query(
            `update audit_relay_cursors set last_audit_id = $2, relayed_count = relayed_count + $3, updated_at = now()
             where tenant_id = $1 and id = 'webhook'`,
            [ctx.tenantId, last.id, rows.length],
          );
          return rows.length;
        });
        relayed += sent;
        if (sent < batchSize) break;
      }
      return { relayed };
    },
  });
}

/** Events written but not yet relayed, across organizations (a count through a definer function, no rows). */
export async function auditOutboxPending(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ pending: string }>('select audit_outbox_pending() as pending');
  return Number(rows[0]?.pending ?? 0);
}
