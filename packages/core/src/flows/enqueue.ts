import { newUuid } from '@atrium/contracts';
import type { Tx } from '@atrium/db';
import { AtriumError } from '../shared/errors.ts';

export interface EnqueueOptions {
  tenantId: string;
  /** The same key for the same flow and tenant returns the existing run instead of starting a second one. */
  idempotencyKey?: string | undefined;
  /** Higher runs first within a tenant (Default: 0). */
  priority?: number | undefined;
  /** Delayed start: not before this time (Default: now). */
  runAt?: Date | undefined;
  /** What started the run: api, schedule, event, system (Default: system). */
  trigger?: string | undefined;
  /**
   * Refuse with flow_queue_full when the tenant already has this many runs waiting or running (Default: no limit).
   * The organization's own quota in flow_tenant_limits, when it has one, replaces this default.
   */
  queueQuota?: number | undefined;
}

export interface Enqueued {
  runId: string;
  created: boolean;
}

/** The channel workers LISTEN on; NOTIFY inside the caller's transaction is delivered at its commit. */
export const readyChannel = 'atrium_flow_ready';

/**
 * Starts a run of `flowId` inside the caller's transaction `tx` (which must be scoped to `tenantId`): the run
 * exists, and becomes visible to workers, exactly when the caller's own write commits.
 */
export async function enqueue(tx: Tx, flowId: string, input: unknown, options: EnqueueOptions): Promise<Enqueued> {
  const [result] = await enqueueMany(tx, flowId, [{ input, idempotencyKey: options.idempotencyKey }], options);
  if (!result) throw new Error('enqueue returned nothing');
  return result;
}

/** Many runs of one flow in three statements (used by schedules fanning out, imports and tests). */
export async function enqueueMany(
  tx: Tx,
  flowId: string,
  items: Array<{ input: unknown; idempotencyKey?: string | undefined }>,
  options: EnqueueOptions,
): Promise<Enqueued[]> {
  if (options.queueQuota !== undefined) await checkQuota(tx, options.tenantId, options.queueQuota, items.length);
  const ids = items.map(() => newUuid());
  const { rows } = await tx.query<{ id: string; idempotency_key: string | null; created: boolean }>(
    `with given as (
       select * from unnest($3::uuid[], $4::jsonb[], $5::text[]) with ordinality as g(id, input, key, position)
     ), inserted as (
       insert into flow_runs (tenant_id, id, flow_id, input, idempotency_key, priority, run_at, trigger)
       select $1, g.id, $2, g.input, g.key, $6, coalesce($7, now()), $8 from given g order by g.position
       on conflict (tenant_id, flow_id, idempotency_key) do nothing
       returning id, idempotency_key
     ), queued as (
       insert into flow_queue (tenant_id, run_id, priority, ready_at)
       select $1, i.id, $6, coalesce($7, now()) from inserted i
     ), notified as (
       select pg_notify('${readyChannel}', '') from (select 1 from inserted limit 1) x
     )
     select coalesce(i.id, r.id) as id, g.key as idempotency_key, i.id is not null as created,
       (select count(*) from notified) as notified
     from given g
     left join inserted i on i.id = g.id
     left join flow_runs r on i.id is null and r.tenant_id = $1 and r.flow_id = $2 and r.idempotency_key = g.key
     order by g.position`,
    [
      options.tenantId,
      flowId,
      ids,
      items.map((item) => JSON.stringify(item.input ?? {})),
      items.map((item) => item.idempotencyKey ?? null),
      options.priority ?? 0,
      options.runAt ?? null,
      options.trigger ?? 'system',
    ],
  );
  return rows.map((row) => ({ runId: row.id, created: row.created }));
}

/** The organization's quota is read in the same statement as its count: no extra round trip, nothing stale. */
async function checkQuota(tx: Tx, tenantId: string, defaultQuota: number, adding: number) {
  const { rows } = await tx.query<{ quota: number; queued: number }>(
    `with quota as (
       select coalesce((select queue_quota from flow_tenant_limits where tenant_id = $1), $2)::int as quota
     )
     select quota, (select count(*)::int from (select 1 from flow_queue where tenant_id = $1 limit quota) q) as queued
     from quota`,
    [tenantId, defaultQuota],
  );
  const quota = rows[0]?.quota ?? defaultQuota;
  if ((rows[0]?.queued ?? 0) + adding > quota) {
    throw new AtriumError('flow_queue_full', `the organization already has ${quota} runs waiting or running`);
  }
}
