-- Flows, closing gaps (docs/flows.md):
--   an attempt a draining worker hands back is recorded as handed_back (not lost, not counted toward maxAttempts);
--   the audit relay claims a batch and commits before it calls the webhook (audit_deliveries);
--   an organization may have its own flow concurrency limit and queue quota (flow_tenant_limits).

alter table flow_attempts drop constraint flow_attempts_status_check;
alter table flow_attempts add constraint flow_attempts_status_check
  check (status in ('running', 'succeeded', 'failed', 'timed_out', 'lost', 'cancelled', 'handed_back'));

-- The audit relay's batch in flight, per tenant and target. Claiming it (in a short transaction that also moves
-- audit_relay_cursors.last_audit_id past its events) and recording the result are two transactions; the webhook
-- call happens between them, outside any transaction. The id is the delivery's stable event id (receivers
-- dedupe on it); a failed call is retried after next_attempt_at (exponential backoff); a delivered batch is
-- deleted. One batch at a time per tenant keeps the receiver's events in order.
create table audit_deliveries (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  target text not null default 'webhook',
  audit_ids uuid[] not null,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- While a relay is calling the receiver: another relay of the same tenant waits until then.
  leased_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint audit_deliveries_target_key unique (tenant_id, target)
);
alter table audit_deliveries enable row level security;
alter table audit_deliveries force row level security;
create policy tenant_isolation on audit_deliveries using (tenant_id = (select app_current_tenant()))
  with check (tenant_id = (select app_current_tenant()));
grant select, insert, update, delete on audit_deliveries to atrium_app;

-- Pending audit events: those after the cursor, and those of batches claimed but not yet delivered.
create or replace function audit_outbox_pending() returns bigint
  language sql stable security definer set search_path = public
  as $$ select (select count(*) from audit_logs a left join audit_relay_cursors c on c.tenant_id = a.tenant_id
                where c.last_audit_id is null or a.id > c.last_audit_id)
             + (select coalesce(sum(cardinality(audit_ids)), 0) from audit_deliveries) $$;

-- Per-organization flow limits (docs/flows.md, fairness): an operator's override of the global defaults
-- ATRIUM_FLOW_TENANT_CONCURRENCY and ATRIUM_FLOW_TENANT_QUEUE_QUOTA, for an organization on a larger or smaller
-- plan. A global table like flow_queue (numbers and an id, no tenant data) because the claim reads it across
-- tenants; the runtime role may only read it: an organization must not raise its own limits. Null: the default.
create table flow_tenant_limits (
  tenant_id uuid primary key references organizations (id) on delete cascade,
  concurrency integer check (concurrency > 0),
  queue_quota integer check (queue_quota >= 0),
  updated_at timestamptz not null default now()
);
grant select on flow_tenant_limits to atrium_app;

-- The claims apply the organization's own concurrency limit when it has one (one primary-key probe per tenant
-- considered, at most 64 per claim); otherwise the worker's tenant_limit, as before.
create or replace function flow_claim_ready(worker text, max_rows integer, tenant_limit integer, lease_ms integer)
  returns table (tenant_id uuid, run_id uuid, lease_token uuid, ready_at timestamptz)
  language sql volatile
  set enable_bitmapscan = off
  set enable_seqscan = off
  as $$
  with recursive tenants as (
    (select q.tenant_id from flow_queue q order by q.tenant_id limit 1)
    union all
    select (select q.tenant_id from flow_queue q where q.tenant_id > t.tenant_id order by q.tenant_id limit 1)
    from tenants t where t.tenant_id is not null
  ), load as (
    select t.tenant_id,
      (select count(*) from flow_queue r where r.tenant_id = t.tenant_id
         and (r.leased_until is not null or r.dispatched_at is not null) and r.leased_until > now()) as running,
      coalesce((select f.concurrency from flow_tenant_limits f where f.tenant_id = t.tenant_id), tenant_limit)
        as tenant_max
    from tenants t where t.tenant_id is not null
    order by 2, random()
    limit 64
  ), picked as (
    select j.tenant_id, j.run_id from load l cross join lateral (
      select q.tenant_id, q.run_id from flow_queue q
      where q.tenant_id = l.tenant_id and q.ready_at <= now() and (q.leased_until is null or q.leased_until < now())
      order by q.priority desc, q.ready_at
      limit greatest(0, least(max_rows, l.tenant_max - l.running))
      for update skip locked
    ) j limit max_rows
  )
  update flow_queue q set lease_token = gen_random_uuid(), worker_id = worker,
    leased_until = now() + lease_ms * interval '1 millisecond'
  from picked p where q.tenant_id = p.tenant_id and q.run_id = p.run_id
  returning q.tenant_id, q.run_id, q.lease_token, q.ready_at
$$;

create or replace function flow_mark_dispatched(max_rows integer, tenant_limit integer, redispatch_ms integer)
  returns table (tenant_id uuid, run_id uuid, dispatch_seq integer, ready_at timestamptz)
  language sql volatile
  set enable_bitmapscan = off
  set enable_seqscan = off
  as $$
  with recursive tenants as (
    (select q.tenant_id from flow_queue q order by q.tenant_id limit 1)
    union all
    select (select q.tenant_id from flow_queue q where q.tenant_id > t.tenant_id order by q.tenant_id limit 1)
    from tenants t where t.tenant_id is not null
  ), load as (
    select t.tenant_id,
      (select count(*) from flow_queue r where r.tenant_id = t.tenant_id
         and (r.leased_until is not null or r.dispatched_at is not null)
         and (r.leased_until > now() or r.dispatched_at > now() - redispatch_ms * interval '1 millisecond')) as running,
      coalesce((select f.concurrency from flow_tenant_limits f where f.tenant_id = t.tenant_id), tenant_limit)
        as tenant_max
    from tenants t where t.tenant_id is not null
    order by 2, random()
    limit 64
  ), picked as (
    select j.tenant_id, j.run_id from load l cross join lateral (
      select q.tenant_id, q.run_id from flow_queue q
      where q.tenant_id = l.tenant_id and q.ready_at <= now() and (q.leased_until is null or q.leased_until < now())
        and (q.dispatched_at is null or q.dispatched_at < now() - redispatch_ms * interval '1 millisecond')
      order by q.priority desc, q.ready_at
      limit greatest(0, least(max_rows, l.tenant_max - l.running))
      for update skip locked
    ) j limit max_rows
  )
  update flow_queue q set dispatch_seq = q.dispatch_seq + 1, dispatched_at = now()
  from picked p where q.tenant_id = p.tenant_id and q.run_id = p.run_id
  returning q.tenant_id, q.run_id, q.dispatch_seq, q.ready_at
$$;
