import { newUuid } from '@atrium/contracts';
import { type Pool, type Tx, tenantStatementInOneRoundTrip, uuidLiteral, withTenant } from '@atrium/db';
import { context, propagation } from '@opentelemetry/api';
import pg from 'pg';
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
  const { rows } = await tx.query<EnqueuedRow>(
    enqueueStatement({
      tenant: '$1',
      flow: '$2',
      ids: '$3::uuid[]',
      inputs: '$4::jsonb[]',
      keys: '$5::text[]',
      priority: '$6',
      runAt: '$7',
      trigger: '$8',
      trace: '$9::jsonb',
    }),
    [
      options.tenantId,
      flowId,
      ids,
      items.map((item) => JSON.stringify(item.input ?? {})),
      items.map((item) => item.idempotencyKey ?? null),
      options.priority ?? 0,
      options.runAt ?? null,
      options.trigger ?? 'system',
      traceContext(),
    ],
  );
  return rows.map((row) => ({ runId: row.id, created: row.created }));
}

/**
 * Starts runs on their own, not as part of a caller's write (a script, an import, a job handing work on): the
 * whole tenant transaction — BEGIN, the tenant, the insert and NOTIFY, COMMIT — is one message to the server,
 * one round trip instead of three (`tenantStatementInOneRoundTrip`). Same statement, same row-level security,
 * same idempotency as `enqueueMany` in `withTenant`. With a queue quota it takes the transaction path (the
 * quota check is a statement of its own).
 */
export async function enqueueNow(
  pool: Pool,
  flowId: string,
  items: Array<{ input: unknown; idempotencyKey?: string | undefined }>,
  options: EnqueueOptions,
): Promise<Enqueued[]> {
  if (options.queueQuota !== undefined || items.length === 0) {
    return withTenant(pool, options.tenantId, (tx) => enqueueMany(tx, flowId, items, options));
  }
  const priority = options.priority ?? 0;
  if (!Number.isSafeInteger(priority)) throw new RangeError('priority must be an integer');
  const runAt = options.runAt;
  if (runAt !== undefined && Number.isNaN(runAt.getTime())) throw new RangeError('runAt must be a valid time');
  const text = (value: string | null | undefined) => (value == null ? 'null' : pg.escapeLiteral(value));
  const rows = await tenantStatementInOneRoundTrip<EnqueuedRow>(
    pool,
    options.tenantId,
    enqueueStatement({
      tenant: `${uuidLiteral(options.tenantId)}::uuid`,
      flow: text(flowId),
      ids: `array[${items.map(() => uuidLiteral(newUuid())).join(', ')}]::uuid[]`,
      inputs: `array[${items.map((item) => text(JSON.stringify(item.input ?? {}))).join(', ')}]::jsonb[]`,
      keys: `array[${items.map((item) => text(item.idempotencyKey)).join(', ')}]::text[]`,
      priority: String(priority),
      runAt: runAt === undefined ? 'null::timestamptz' : `${text(runAt.toISOString())}::timestamptz`,
      trigger: text(options.trigger ?? 'system'),
      trace: `${text(traceContext())}::jsonb`,
    }),
  );
  return rows.map((row) => ({ runId: row.id, created: row.created }));
}

interface EnqueuedRow {
  id: string;
  idempotency_key: string | null;
  created: boolean;
}

/**
 * The W3C trace context of the work enqueueing (a traced request, a run), kept with the run so that the worker's
 * span of each attempt joins that trace (ADR 0009). Null when nothing is traced: with no OpenTelemetry SDK in the
 * process, `inject` does nothing.
 */
function traceContext(): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? JSON.stringify(carrier) : null;
}

/** The enqueue statement over SQL expressions for its values: bind parameters, or checked literals. */
function enqueueStatement(
  v: Record<'tenant' | 'flow' | 'ids' | 'inputs' | 'keys' | 'priority' | 'runAt' | 'trigger' | 'trace', string>,
) {
  return `with given as (
       select * from unnest(${v.ids}, ${v.inputs}, ${v.keys}) with ordinality as g(id, input, key, position)
     ), inserted as (
       insert into flow_runs (tenant_id, id, flow_id, input, idempotency_key, priority, run_at, trigger, trace_context)
       select ${v.tenant}, g.id, ${v.flow}, g.input, g.key, ${v.priority}, coalesce(${v.runAt}, now()), ${v.trigger},
         ${v.trace}
       from given g order by g.position
       on conflict (tenant_id, flow_id, idempotency_key) do nothing
       returning id, idempotency_key
     ), queued as (
       insert into flow_queue (tenant_id, run_id, priority, ready_at)
       select ${v.tenant}, i.id, ${v.priority}, coalesce(${v.runAt}, now()) from inserted i
     ), notified as (
       select pg_notify('${readyChannel}', '') from (select 1 from inserted limit 1) x
     )
     select coalesce(i.id, r.id) as id, g.key as idempotency_key, i.id is not null as created,
       (select count(*) from notified) as notified
     from given g
     left join inserted i on i.id = g.id
     left join flow_runs r on i.id is null and r.tenant_id = ${v.tenant} and r.flow_id = ${v.flow}
       and r.idempotency_key = g.key
     order by g.position`;
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
