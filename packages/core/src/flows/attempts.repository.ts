import type { Pool, Tx } from '@atrium/db';
import type { Claim, Dispatch } from './queue.repository.ts';

export interface StartedRun {
  runId: string;
  attemptId: string;
  flowId: string;
  input: unknown;
  attempt: number;
  startedAt: Date;
  cancelRequested: boolean;
  steps: Record<string, unknown>;
  /** W3C trace context of the work that enqueued the run (`traceparent`, `tracestate`); null when untraced. */
  traceContext: Record<string, string> | null;
}

interface StartedRow {
  tenant_id: string;
  run_id: string;
  lease_token: string;
  ready_at: Date;
  attempt_id: string;
  flow_id: string;
  input: unknown;
  attempts: number;
  started_at: Date;
  cancel_requested: boolean;
  steps: Record<string, unknown>;
  trace_context: Record<string, string> | null;
}

export interface Started {
  claim: Claim;
  run: StartedRun;
}

function toStarted(row: StartedRow): Started {
  return {
    claim: { tenantId: row.tenant_id, runId: row.run_id, leaseToken: row.lease_token, readyAt: row.ready_at },
    run: {
      runId: row.run_id,
      attemptId: row.attempt_id,
      flowId: row.flow_id,
      input: row.input,
      attempt: row.attempts,
      startedAt: row.started_at,
      cancelRequested: row.cancel_requested,
      steps: row.steps,
      traceContext: row.trace_context,
    },
  };
}

/**
 * Claims commit without waiting for the WAL flush (ADR 0204): a claim lost in a database crash only makes its
 * runs claimable again after recovery, as a worker crash would, while every write that must survive — a step
 * result, a completion, a retry — still commits synchronously, and flushing its WAL flushes the claim's before it.
 * Set first (LATERAL), transaction-local: it never outlives this statement's transaction.
 */
const asyncCommit = `(select set_config('synchronous_commit', 'off', true)) as async_commit(off) cross join lateral`;

/**
 * Claims up to `max` ready runs across tenants, fairly, and starts them, in one round trip
 * (flow_claim_and_start, migration 0002): lease, attempt row (a previous attempt still marked running is lost),
 * and the memoized step results. Batches, because a single-row SKIP LOCKED dequeue gets slower as workers are
 * added (research/flows.md).
 */
export async function claimAndStart(
  pool: Pool,
  workerId: string,
  max: number,
  tenantConcurrency: number,
  leaseMs: number,
): Promise<Started[]> {
  const { rows } = await pool.query<StartedRow>(
    `select c.* from ${asyncCommit} flow_claim_and_start($1, $2, $3, $4) c`,
    [workerId, max, tenantConcurrency, leaseMs],
  );
  return rows.map(toStarted);
}

/** JetStream backend: leases and starts the runs named by delivered messages that are the current dispatch. */
export async function claimDispatchedAndStart(
  pool: Pool,
  workerId: string,
  dispatches: Dispatch[],
  leaseMs: number,
): Promise<Started[]> {
  const sql = `select c.* from ${asyncCommit} flow_claim_dispatched_and_start($1, $2, $3, $4, $5) c`;
  const { rows } = await pool.query<StartedRow>(sql, [
    workerId,
    dispatches.map((d) => d.tenantId),
    dispatches.map((d) => d.runId),
    dispatches.map((d) => d.seq),
    leaseMs,
  ]);
  return rows.map(toStarted);
}

export interface Success {
  claim: Claim;
  attemptId: string;
  output: unknown;
}

/**
 * Records successful runs of any tenants in one round trip. Only completions whose lease token is still the
 * current one are accepted (the queue row is deleted by token); a worker whose lease was taken over changes nothing.
 */
export async function completeSucceeded(pool: Pool, successes: Success[]): Promise<Set<string>> {
  const { rows } = await pool.query<{ run_id: string }>(
    'select run_id from flow_complete_succeeded($1, $2, $3, $4, $5)',
    [
      successes.map((s) => s.claim.tenantId),
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
