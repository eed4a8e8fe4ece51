import { type FlowRun, type FlowRunDetail, toPublicId } from '@atrium/contracts';
import type { Tx } from '@atrium/db';

export interface RunRow {
  id: string;
  flow_id: string;
  status: FlowRun['status'];
  input: unknown;
  output: unknown;
  error: unknown;
  priority: number;
  attempts: number;
  trigger: string;
  run_at: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const columns =
  'id, flow_id, status, input, output, error, priority, attempts, trigger, run_at, created_at, started_at, finished_at';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

const secretKeys = /^(token|secret|password|api_key|access_token|refresh_token)$|_sealed$/i;

/**
 * Inputs and outputs are shown to every member: fields named like secrets are masked. Secrets a flow needs are
 * sealed before they are stored (`*_sealed`, ADR 0203); the ciphertext is masked too, and a plain `token` of an
 * older run as well.
 */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, secretKeys.test(key) ? '[redacted]' : redact(inner)]),
  );
}

export function toFlowRun(row: RunRow): FlowRun {
  return {
    id: toPublicId('flowRun', row.id),
    flow_id: row.flow_id,
    status: row.status,
    input: redact(row.input),
    output: redact(row.output),
    error: row.error,
    priority: row.priority,
    attempts: row.attempts,
    trigger: row.trigger,
    run_at: row.run_at.toISOString(),
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
  };
}

export async function findRun(tx: Tx, tenantId: string, id: string) {
  const { rows } = await tx.query<RunRow>(`select ${columns} from flow_runs where tenant_id = $1 and id = $2`, [
    tenantId,
    id,
  ]);
  return rows[0];
}

export async function listRuns(
  tx: Tx,
  tenantId: string,
  filter: { flowId?: string | undefined; status?: string | undefined },
  after: string | null,
  limit: number,
) {
  const { rows } = await tx.query<RunRow>(
    `select ${columns} from flow_runs where tenant_id = $1 and ($2::text is null or flow_id = $2)
       and ($3::text is null or status = $3) and ($4::uuid is null or id < $4)
     order by id desc limit $5`,
    [tenantId, filter.flowId ?? null, filter.status ?? null, after, limit + 1],
  );
  return rows;
}

export async function runDetail(tx: Tx, tenantId: string, run: RunRow): Promise<FlowRunDetail> {
  const steps = await tx.query<{
    name: string;
    result: unknown;
    attempt: number;
    duration_ms: number;
    completed_at: Date;
  }>(
    `select name, result, attempt, duration_ms, completed_at from flow_steps
     where tenant_id = $1 and run_id = $2 order by completed_at, name`,
    [tenantId, run.id],
  );
  const attempts = await tx.query<{
    id: string;
    number: number;
    status: FlowRunDetail['attempts_detail'][number]['status'];
    worker_id: string;
    enqueued_at: Date;
    started_at: Date;
    finished_at: Date | null;
    error: unknown;
  }>(
    `select id, number, status, worker_id, enqueued_at, started_at, finished_at, error from flow_attempts
     where tenant_id = $1 and run_id = $2 order by number, started_at`,
    [tenantId, run.id],
  );
  return {
    ...toFlowRun(run),
    steps: steps.rows.map((step) => ({
      ...step,
      result: redact(step.result),
      completed_at: step.completed_at.toISOString(),
    })),
    attempts_detail: attempts.rows.map((attempt) => ({
      ...attempt,
      id: toPublicId('flowAttempt', attempt.id),
      enqueued_at: attempt.enqueued_at.toISOString(),
      started_at: attempt.started_at.toISOString(),
      finished_at: iso(attempt.finished_at),
    })),
  };
}

/** A waiting run is cancelled at once; a running one is asked to stop (its worker sees it at the next heartbeat). */
export async function cancelRun(tx: Tx, tenantId: string, id: string) {
  const { rows } = await tx.query<RunRow>(
    `with waiting as (
       delete from flow_queue where tenant_id = $1 and run_id = $2
         and (leased_until is null or leased_until < now()) returning run_id
     ), running as (
       update flow_queue set cancel_requested = true where tenant_id = $1 and run_id = $2
         and leased_until >= now() returning run_id
     )
     update flow_runs r set
       status = case when exists (select 1 from waiting) then 'cancelled' else r.status end,
       finished_at = case when exists (select 1 from waiting) then now() else r.finished_at end,
       error = case when exists (select 1 from waiting) then '{"message":"cancelled"}'::jsonb else r.error end
     where r.tenant_id = $1 and r.id = $2 and r.status in ('queued', 'running')
     returning ${columns}`,
    [tenantId, id],
  );
  return rows[0];
}

/** A dead or timed-out run gets a fresh set of attempts and waits again. */
export async function redriveRun(tx: Tx, tenantId: string, id: string) {
  const { rows } = await tx.query<RunRow>(
    `with run as (
       update flow_runs set status = 'queued', attempts = 0, finished_at = null
       where tenant_id = $1 and id = $2 and status in ('dead', 'timed_out') returning ${columns}
     ), queued as (
       insert into flow_queue (tenant_id, run_id, priority) select $1, id, priority from run
     )
     select * from run`,
    [tenantId, id],
  );
  if (rows[0]) await tx.query(`select pg_notify('atrium_flow_ready', '')`);
  return rows[0];
}
