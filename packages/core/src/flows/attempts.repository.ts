import type { Tx } from '@atrium/db';
import type { Claim } from './queue.repository.ts';

export interface StartedRun {
  runId: string;
  attemptId: string;
  flowId: string;
  input: unknown;
  attempt: number;
  startedAt: Date;
  cancelRequested: boolean;
  steps: Record<string, unknown>;
}

interface StartedRow {
  id: string;
  attempt_id: string;
  flow_id: string;
  input: unknown;
  attempts: number;
  started_at: Date;
  cancel_requested: boolean;
  steps: Record<string, unknown>;
}

/**
 * Starts the claimed runs of one tenant in one statement: an attempt still marked running belonged to a worker
 * whose lease ran out (lost), the run counts one more attempt, a new attempt row records the lease token, and
 * the memoized step results come back with it.
 */
export async function startAttempts(tx: Tx, tenantId: string, workerId: string, claims: Claim[]) {
  const { rows } = await tx.query<StartedRow>(
    `with claimed as (
       select * from unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::uuid[])
         as c(run_id, lease_token, ready_at, attempt_id)
     ), lost as (
       update flow_attempts a set status = 'lost', finished_at = now(),
         error = '{"message":"the worker stopped renewing its lease"}'
       from claimed c where a.tenant_id = $1 and a.run_id = c.run_id and a.status = 'running'
     ), runs as (
       update flow_runs r set status = 'running', attempts = r.attempts + 1,
         started_at = coalesce(r.started_at, now())
       from claimed c where r.tenant_id = $1 and r.id = c.run_id and r.status in ('queued', 'running')
       returning r.id, r.flow_id, r.input, r.attempts, r.started_at
     ), attempts as (
       insert into flow_attempts (tenant_id, id, run_id, number, lease_token, worker_id, enqueued_at)
       select $1, c.attempt_id, c.run_id, r.attempts, c.lease_token, $6, c.ready_at
       from claimed c join runs r on r.id = c.run_id
     )
     select r.id, c.attempt_id, r.flow_id, r.input, r.attempts, r.started_at,
       coalesce(q.cancel_requested, false) as cancel_requested,
       coalesce((select jsonb_object_agg(s.name, s.result) from flow_steps s
                 where s.tenant_id = $1 and s.run_id = r.id), '{}') as steps
     from runs r join claimed c on c.run_id = r.id
     left join flow_queue q on q.tenant_id = $1 and q.run_id = r.id`,
    [
      tenantId,
      claims.map((c) => c.runId),
      claims.map((c) => c.leaseToken),
      claims.map((c) => c.readyAt),
      claims.map(() => crypto.randomUUID()),
      workerId,
    ],
  );
  return rows.map(
    (row): StartedRun => ({
      runId: row.id,
      attemptId: row.attempt_id,
      flowId: row.flow_id,
      input: row.input,
      attempt: row.attempts,
      startedAt: row.started_at,
      cancelRequested: row.cancel_requested,
      steps: row.steps,
    }),
  );
}

/** Queue rows whose run is no longer waiting (finished or cancelled meanwhile): nothing to run, drop them. */
export async function dropClaims(tx: Tx, tenantId: string, claims: Claim[]) {
  await tx.query(
    `delete from flow_queue q using unnest($2::uuid[], $3::uuid[]) c(run_id, token)
     where q.tenant_id = $1 and q.run_id = c.run_id and q.lease_token = c.token`,
    [tenantId, claims.map((c) => c.runId), claims.map((c) => c.leaseToken)],
  );
}

export interface Success {
  claim: Claim;
  attemptId: string;
  output: unknown;
}

/**
 * Records successful runs of one tenant. Only completions whose lease token is still the current one are
 * accepted (the queue row is deleted by token); a worker whose lease was taken over changes nothing.
 */
export async function completeSucceeded(tx: Tx, tenantId: string, successes: Success[]): Promise<Set<string>> {
  const { rows } = await tx.query<{ run_id: string }>(
    `with done as (
       select * from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::jsonb[]) as d(run_id, token, attempt_id, output)
     ), accepted as (
       delete from flow_queue q using done d
       where q.tenant_id = $1 and q.run_id = d.run_id and q.lease_token = d.token
       returning q.run_id
     ), runs as (
       update flow_runs r set status = 'succeeded', output = d.output, error = null, finished_at = now()
       from accepted a join done d on d.run_id = a.run_id where r.tenant_id = $1 and r.id = a.run_id
     ), attempts as (
       update flow_attempts t set status = 'succeeded', finished_at = now()
       from accepted a join done d on d.run_id = a.run_id where t.tenant_id = $1 and t.id = d.attempt_id
     )
     select run_id from accepted`,
    [
      tenantId,
      successes.map((s) => s.claim.runId),
      successes.map((s) => s.claim.leaseToken),
      successes.map((s) => s.attemptId),
      successes.map((s) => JSON.stringify(s.output ?? null)),
    ],
  );
  return new Set(rows.map((row) => row.run_id));
}

export type AttemptOutcome = 'failed' | 'timed_out' | 'cancelled';
export type FinalStatus = 'dead' | 'cancelled' | 'timed_out';

/** A failed attempt with attempts left: the run waits again until `retryAt` (Atrium's backoff, not the broker's). */
export async function scheduleRetry(
  tx: Tx,
  tenantId: string,
  claim: Claim,
  attemptId: string,
  outcome: AttemptOutcome,
  error: unknown,
  retryAt: Date,
): Promise<boolean> {
  const { rows } = await tx.query<{ run_id: string }>(
    `with accepted as (
       update flow_queue set lease_token = null, leased_until = null, worker_id = null, dispatched_at = null,
         ready_at = $5
       where tenant_id = $1 and run_id = $2 and lease_token = $3 returning run_id
     ), runs as (
       update flow_runs set status = 'queued', error = $6 where tenant_id = $1 and id in (select run_id from accepted)
     ), attempts as (
       update flow_attempts set status = $7, error = $6, finished_at = now()
       where tenant_id = $1 and id = $4 and run_id in (select run_id from accepted)
     )
     select run_id from accepted`,
    [tenantId, claim.runId, claim.leaseToken, attemptId, retryAt, JSON.stringify(error), outcome],
  );
  return rows.length === 1;
}

/** The run ends without success: dead (attempts used up, or not retryable), cancelled, or timed out. */
export async function finishUnsuccessfully(
  tx: Tx,
  tenantId: string,
  claim: Claim,
  attemptId: string,
  outcome: AttemptOutcome,
  status: FinalStatus,
  error: unknown,
): Promise<boolean> {
  const { rows } = await tx.query<{ run_id: string }>(
    `with accepted as (
       delete from flow_queue where tenant_id = $1 and run_id = $2 and lease_token = $3 returning run_id
     ), runs as (
       update flow_runs set status = $5, error = $6, finished_at = now()
       where tenant_id = $1 and id in (select run_id from accepted)
     ), attempts as (
       update flow_attempts set status = $7, error = $6, finished_at = now()
       where tenant_id = $1 and id = $4 and run_id in (select run_id from accepted)
     )
     select run_id from accepted`,
    [tenantId, claim.runId, claim.leaseToken, attemptId, status, JSON.stringify(error), outcome],
  );
  return rows.length === 1;
}

/** Stores a step's result if this attempt still holds the lease; false when the lease was lost. */
export async function saveStep(
  tx: Tx,
  tenantId: string,
  claim: Claim,
  step: { name: string; result: unknown; attempt: number; durationMs: number },
): Promise<boolean> {
  const { rows } = await tx.query(
    `insert into flow_steps (tenant_id, run_id, name, result, attempt, duration_ms)
     select $1, $2, $3, $4, $5, $6
     where exists (select 1 from flow_queue where tenant_id = $1 and run_id = $2 and lease_token = $7 for share)
     on conflict (tenant_id, run_id, name) do nothing
     returning name`,
    [
      tenantId,
      claim.runId,
      step.name,
      JSON.stringify(step.result ?? null),
      step.attempt,
      step.durationMs,
      claim.leaseToken,
    ],
  );
  return rows.length === 1;
}
