import type { Pool } from '@atrium/db';

/** A run this worker now holds the lease of. */
export interface Claim {
  tenantId: string;
  runId: string;
  leaseToken: string;
  readyAt: Date;
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

/** Of these dispatches, the current ones whose run is leased right now, with the lease's remaining time. */
export async function leasedDispatches(pool: Pool, dispatches: Dispatch[]): Promise<Map<string, number>> {
  if (dispatches.length === 0) return new Map();
  const { rows } = await pool.query<{ run_id: string; remaining_ms: number }>(
    `select q.run_id, ceil(extract(epoch from q.leased_until - now()) * 1000)::int as remaining_ms
     from flow_queue q join unnest($1::uuid[], $2::uuid[], $3::int[]) as d(tenant_id, run_id, seq)
       on q.tenant_id = d.tenant_id and q.run_id = d.run_id and q.dispatch_seq = d.seq
     where q.leased_until > now()`,
    [dispatches.map((d) => d.tenantId), dispatches.map((d) => d.runId), dispatches.map((d) => d.seq)],
  );
  return new Map(rows.map((row) => [row.run_id, row.remaining_ms]));
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
