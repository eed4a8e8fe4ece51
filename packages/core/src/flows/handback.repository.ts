import { type Pool, type Tx, withTenant } from '@atrium/db';
import { readyChannel } from './enqueue.ts';
import type { Claim } from './queue.repository.ts';

export interface HandBack {
  claim: Claim;
  attemptId: string;
}

const handedBackError = JSON.stringify({ message: 'the worker drained and handed the run back' });

/**
 * Graceful drain: the worker gives its unfinished runs back at once. Under the lease token, in one statement per
 * tenant: the queue row loses its lease and keeps its readiness time (no backoff, the head of its tenant's queue),
 * the run waits again, and the attempt ends as `handed_back`, which does not count toward the flow's
 * maxAttempts (recordOutcome). A run whose lease was already lost is left alone.
 */
export async function handBackRuns(pool: Pool, runs: HandBack[]): Promise<number> {
  const byTenant = Map.groupBy(runs, (run) => run.claim.tenantId);
  let handedBack = 0;
  for (const [tenantId, group] of byTenant) {
    handedBack += await withTenant(pool, tenantId, async (tx) => {
      const { rows } = await tx.query<{ run_id: string }>(
        `with released as (
           update flow_queue q set leased_until = null, lease_token = null, worker_id = null, dispatched_at = null
           from unnest($2::uuid[], $3::uuid[]) as c(run_id, token)
           where q.tenant_id = $1 and q.run_id = c.run_id and q.lease_token = c.token
           returning q.run_id
         ), runs as (
           update flow_runs r set status = 'queued'
           where r.tenant_id = $1 and r.id in (select run_id from released) and r.status = 'running'
         ), attempts as (
           update flow_attempts a set status = 'handed_back', finished_at = now(), error = $5::jsonb
           from unnest($2::uuid[], $4::uuid[]) as c(run_id, attempt_id)
           where a.tenant_id = $1 and a.id = c.attempt_id and a.run_id in (select run_id from released)
         )
         select run_id from released`,
        [
          tenantId,
          group.map((run) => run.claim.runId),
          group.map((run) => run.claim.leaseToken),
          group.map((run) => run.attemptId),
          handedBackError,
        ],
      );
      // Wakes PostgreSQL-backend workers sleeping on LISTEN (delivered at commit).
      if (rows.length > 0) await tx.query(`select pg_notify('${readyChannel}', '')`);
      return rows.length;
    });
  }
  return handedBack;
}

/**
 * Attempts handed back on a drain since the run's attempts were last counted from 1 (its first start, or its last
 * redrive): the attempt number minus these is the number of attempts that counted.
 */
export async function handedBackAttempts(tx: Tx, tenantId: string, runId: string) {
  const { rows } = await tx.query<{ n: number }>(
    `select count(*)::int as n from flow_attempts
     where tenant_id = $1 and run_id = $2 and status = 'handed_back'
       and started_at >= (select max(started_at) from flow_attempts
                          where tenant_id = $1 and run_id = $2 and number = 1)`,
    [tenantId, runId],
  );
  return rows[0]?.n ?? 0;
}
