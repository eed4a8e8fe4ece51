import type { Pool } from '@atrium/db';

/** A run this worker now holds the lease of. */
export interface Claim {
  tenantId: string;
  runId: string;
  leaseToken: string;
  readyAt: Date;
}

interface ClaimRow {
  tenant_id: string;
  run_id: string;
  lease_token: string;
  ready_at: Date;
}

const toClaim = (row: ClaimRow): Claim => ({
  tenantId: row.tenant_id,
  runId: row.run_id,
  leaseToken: row.lease_token,
  readyAt: row.ready_at,
});

/**
 * Claims up to `max` ready runs across tenants in one statement, fairly (flow_claim_ready, migration 0002).
 * Batches, because a single-row SKIP LOCKED dequeue gets slower as workers are added (research/flows.md).
 */
export async function claimReady(
  pool: Pool,
  workerId: string,
  max: number,
  tenantConcurrency: number,
  leaseMs: number,
): Promise<Claim[]> {
  const { rows } = await pool.query<ClaimRow>('select * from flow_claim_ready($1, $2, $3, $4)', [
    workerId,
    max,
    tenantConcurrency,
    leaseMs,
  ]);
  return rows.map(toClaim);
}

export interface Dispatch {
  tenantId: string;
  runId: string;
  seq: number;
}

export interface Dispatched extends Dispatch {
  readyAt: Date;
}

/** JetStream backend: picks ready runs fairly, like claimReady, and marks them dispatched (flow_mark_dispatched). */
export async function markDispatched(
  pool: Pool,
  max: number,
  tenantConcurrency: number,
  redispatchAfterMs: number,
): Promise<Dispatched[]> {
  const { rows } = await pool.query<{ tenant_id: string; run_id: string; dispatch_seq: number; ready_at: Date }>(
    'select * from flow_mark_dispatched($1, $2, $3)',
    [max, tenantConcurrency, redispatchAfterMs],
  );
  return rows.map((row) => ({
    tenantId: row.tenant_id,
    runId: row.run_id,
    seq: row.dispatch_seq,
    readyAt: row.ready_at,
  }));
}

/** JetStream backend: leases the runs named by delivered messages, if the message is the current dispatch. */
export async function claimDispatched(
  pool: Pool,
  workerId: string,
  dispatches: Dispatch[],
  leaseMs: number,
): Promise<Claim[]> {
  const { rows } = await pool.query<ClaimRow>('select * from flow_claim_dispatched($1, $2, $3, $4, $5)', [
    workerId,
    dispatches.map((d) => d.tenantId),
    dispatches.map((d) => d.runId),
    dispatches.map((d) => d.seq),
    leaseMs,
  ]);
  return rows.map(toClaim);
}

export interface LeaseState {
  runId: string;
  cancelRequested: boolean;
}

/** Extends the leases this worker still holds; a run missing from the answer was lost (expired and reclaimed). */
export async function extendLeases(pool: Pool, claims: Claim[], leaseMs: number): Promise<LeaseState[]> {
  if (claims.length === 0) return [];
  const { rows } = await pool.query<{ run_id: string; cancel_requested: boolean }>(
    `update flow_queue q set leased_until = now() + $4 * interval '1 millisecond'
     from unnest($1::uuid[], $2::uuid[], $3::uuid[]) as c(tenant_id, run_id, token)
     where q.tenant_id = c.tenant_id and q.run_id = c.run_id and q.lease_token = c.token
     returning q.run_id, q.cancel_requested`,
    [claims.map((c) => c.tenantId), claims.map((c) => c.runId), claims.map((c) => c.leaseToken), leaseMs],
  );
  return rows.map((row) => ({ runId: row.run_id, cancelRequested: row.cancel_requested }));
}

/** Hands leases back at once (graceful drain): another worker may start the runs without waiting. */
export async function releaseLeases(pool: Pool, claims: Claim[]): Promise<void> {
  if (claims.length === 0) return;
  await pool.query(
    `update flow_queue q set leased_until = null, lease_token = null, worker_id = null, dispatched_at = null
     from unnest($1::uuid[], $2::uuid[], $3::uuid[]) as c(tenant_id, run_id, token)
     where q.tenant_id = c.tenant_id and q.run_id = c.run_id and q.lease_token = c.token`,
    [claims.map((c) => c.tenantId), claims.map((c) => c.runId), claims.map((c) => c.leaseToken)],
  );
}

export interface QueueDepth {
  ready: number;
  delayed: number;
  running: number;
}

export async function queueDepth(pool: Pool): Promise<QueueDepth> {
  const { rows } = await pool.query<QueueDepth>(
    `select count(*) filter (where ready_at <= now() and (leased_until is null or leased_until < now()))::int as ready,
            count(*) filter (where ready_at > now())::int as delayed,
            count(*) filter (where leased_until >= now())::int as running
     from flow_queue`,
  );
  return rows[0] ?? { ready: 0, delayed: 0, running: 0 };
}
