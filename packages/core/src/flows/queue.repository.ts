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
 * Tenants with queued rows, by a loose index scan (one index probe per tenant, not one row per job), with how
 * many runs each has leased right now. Tenants with fewer running runs come first: a tenant that floods the
 * queue cannot starve the others, and the per-tenant concurrency limit is applied from the same count.
 */
const tenantLoad = (active = 'r.leased_until > now()') => `
  with recursive tenants as (
    (select tenant_id from flow_queue order by tenant_id limit 1)
    union all
    select (select q.tenant_id from flow_queue q where q.tenant_id > t.tenant_id order by q.tenant_id limit 1)
    from tenants t where t.tenant_id is not null
  ), load as (
    select t.tenant_id,
      (select count(*) from flow_queue r where r.tenant_id = t.tenant_id
         and (r.leased_until is not null or r.dispatched_at is not null) and ${active}) as running
    from tenants t where t.tenant_id is not null
    order by 2, random()
    limit 64
  )`;

/** Rows of one tenant that are ready and not leased (or whose lease ran out: a dead worker's run). */
const readyRows = (extra = '') => `
    select q.tenant_id, q.run_id from flow_queue q
    where q.tenant_id = l.tenant_id and q.ready_at <= now()
      and (q.leased_until is null or q.leased_until < now()) ${extra}
    order by q.priority desc, q.ready_at
    limit greatest(0, least($1, $2 - l.running))
    for update skip locked`;

/**
 * Claims up to `max` ready runs across tenants in one statement (batches: a single-row SKIP LOCKED dequeue gets
 * slower as workers are added, research/flows.md).
 */
export async function claimReady(
  pool: Pool,
  workerId: string,
  max: number,
  tenantConcurrency: number,
  leaseMs: number,
): Promise<Claim[]> {
  const { rows } = await pool.query<ClaimRow>(
    `${tenantLoad()}, picked as (
       select j.tenant_id, j.run_id from load l cross join lateral (${readyRows()}) j limit $1
     )
     update flow_queue q set lease_token = gen_random_uuid(), worker_id = $3,
       leased_until = now() + $4 * interval '1 millisecond'
     from picked p where q.tenant_id = p.tenant_id and q.run_id = p.run_id
     returning q.tenant_id, q.run_id, q.lease_token, q.ready_at`,
    [max, tenantConcurrency, workerId, leaseMs],
  );
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

/**
 * JetStream backend: picks ready runs fairly, like claimReady, and marks them dispatched (a new message
 * sequence) instead of leasing them. A run dispatched long ago and still not leased (message lost with a
 * broker's storage) is dispatched again.
 */
export async function markDispatched(
  pool: Pool,
  max: number,
  tenantConcurrency: number,
  redispatchAfterMs: number,
): Promise<Dispatched[]> {
  const { rows } = await pool.query<{ tenant_id: string; run_id: string; dispatch_seq: number; ready_at: Date }>(
    `${tenantLoad(`(r.leased_until > now() or r.dispatched_at > now() - $3 * interval '1 millisecond')`)}, picked as (
       select j.tenant_id, j.run_id from load l cross join lateral (${readyRows(
         `and (q.dispatched_at is null or q.dispatched_at < now() - $3 * interval '1 millisecond')`,
       )}) j limit $1
     )
     update flow_queue q set dispatch_seq = q.dispatch_seq + 1, dispatched_at = now()
     from picked p where q.tenant_id = p.tenant_id and q.run_id = p.run_id
     returning q.tenant_id, q.run_id, q.dispatch_seq, q.ready_at`,
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
  const { rows } = await pool.query<ClaimRow>(
    `update flow_queue q set lease_token = gen_random_uuid(), worker_id = $4,
       leased_until = now() + $5 * interval '1 millisecond'
     from unnest($1::uuid[], $2::uuid[], $3::int[]) as d(tenant_id, run_id, seq)
     where q.tenant_id = d.tenant_id and q.run_id = d.run_id and q.dispatch_seq = d.seq
       and (q.leased_until is null or q.leased_until < now())
     returning q.tenant_id, q.run_id, q.lease_token, q.ready_at`,
    [
      dispatches.map((d) => d.tenantId),
      dispatches.map((d) => d.runId),
      dispatches.map((d) => d.seq),
      workerId,
      leaseMs,
    ],
  );
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
