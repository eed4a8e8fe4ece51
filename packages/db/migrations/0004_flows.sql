-- Flows: durable background work (docs/adr/0200, 0201). PostgreSQL is the record of runs, memoized steps,
-- attempts and schedules (tenant tables under RLS). Two global tables carry no tenant data:
--   flow_definitions  what the workers can run (ids, versions, triggers), written by workers at start;
--   flow_queue        one row per run that is waiting or running: ids, priority, readiness and the lease. The
--                     dispatcher must see ready work across tenants; this table is all it sees (no input, no output).

create table flow_definitions (
  id text primary key,
  version integer not null,
  events text[] not null default '{}',
  schedule_cron text,
  schedule_timezone text,
  updated_at timestamptz not null default now()
);

create table flow_runs (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  flow_id text not null,
  flow_version integer,
  -- queued → running → succeeded | failed (retry pending: back to queued) | dead | cancelled | timed_out
  status text not null default 'queued'
    check (status in ('queued', 'running', 'succeeded', 'dead', 'cancelled', 'timed_out')),
  input jsonb not null default '{}',
  output jsonb,
  error jsonb,
  priority integer not null default 0,
  idempotency_key text,
  attempts integer not null default 0,
  run_at timestamptz not null default now(),
  trigger text not null default 'api',
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  primary key (tenant_id, id),
  constraint flow_runs_idempotency_key unique (tenant_id, flow_id, idempotency_key)
);
create index flow_runs_flow_idx on flow_runs (tenant_id, flow_id, id);
-- No index on status: a run changes status three times, and leaving status (and the timestamps) unindexed with
-- room on each page (fillfactor) lets those updates be HOT, without touching any index. Lists by status scan
-- the tenant's runs newest first.
alter table flow_runs set (fillfactor = 80);

create table flow_steps (
  tenant_id uuid not null references organizations (id) on delete cascade,
  run_id uuid not null,
  name text not null,
  result jsonb,
  attempt integer not null,
  duration_ms integer not null,
  completed_at timestamptz not null default now(),
  primary key (tenant_id, run_id, name),
  constraint flow_steps_run_fkey foreign key (tenant_id, run_id) references flow_runs (tenant_id, id) on delete cascade
);

create table flow_attempts (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  run_id uuid not null,
  number integer not null,
  status text not null default 'running'
    check (status in ('running', 'succeeded', 'failed', 'timed_out', 'lost', 'cancelled')),
  lease_token uuid not null,
  worker_id text not null,
  enqueued_at timestamptz not null,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  error jsonb,
  primary key (tenant_id, id),
  constraint flow_attempts_run_fkey foreign key (tenant_id, run_id) references flow_runs (tenant_id, id) on delete cascade
);
create index flow_attempts_run_idx on flow_attempts (tenant_id, run_id, number);
alter table flow_attempts set (fillfactor = 80);

create table flow_schedules (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  flow_id text not null,
  cron text not null,
  timezone text not null default 'UTC',
  input jsonb not null default '{}',
  paused boolean not null default false,
  next_run_at timestamptz not null,
  last_run_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint flow_schedules_flow_key unique (tenant_id, flow_id)
);
create index flow_schedules_due_idx on flow_schedules (tenant_id, next_run_at);

-- Platform jobs' outputs and state.
create table email_outbox (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  to_address text not null,
  subject text not null,
  body_text text not null,
  idempotency_key text not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint email_outbox_idempotency_key unique (tenant_id, idempotency_key)
);

create table usage_reports (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  day date not null,
  rows jsonb not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint usage_reports_day_key unique (tenant_id, day)
);

create table organization_exports (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  run_id uuid,
  status text not null default 'pending' check (status in ('pending', 'ready')),
  archive jsonb,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id)
);

create table audit_relay_cursors (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id text not null default 'webhook',
  last_audit_id uuid,
  relayed_count bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id)
);

do $$
declare
  t text;
begin
  foreach t in array array['flow_runs', 'flow_steps', 'flow_attempts', 'flow_schedules', 'email_outbox',
                           'usage_reports', 'organization_exports', 'audit_relay_cursors'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = (select app_current_tenant())) '
      'with check (tenant_id = (select app_current_tenant()))', t);
    execute format('grant select, insert, update, delete on %I to atrium_app', t);
  end loop;
end
$$;

create table flow_queue (
  tenant_id uuid not null,
  run_id uuid not null,
  priority integer not null default 0,
  ready_at timestamptz not null default now(),
  -- The lease: a worker owns the run while leased_until is in the future and only with this token.
  lease_token uuid,
  leased_until timestamptz,
  worker_id text,
  cancel_requested boolean not null default false,
  -- JetStream backend: the message id sequence of the last publication, and when it happened.
  dispatch_seq integer not null default 0,
  dispatched_at timestamptz,
  primary key (tenant_id, run_id)
);
-- Claim order inside one tenant: highest priority first, then oldest readiness.
create index flow_queue_ready_idx on flow_queue (tenant_id, priority desc, ready_at);
-- Running count per tenant (fairness and the per-tenant concurrency limit) reads only leased rows.
create index flow_queue_active_idx on flow_queue (tenant_id, leased_until)
  where leased_until is not null or dispatched_at is not null;

grant select, insert, update on flow_definitions to atrium_app;
grant select, insert, update, delete on flow_queue to atrium_app;

-- Audit events are the outbox of the relay; the relay reads them per tenant under RLS.
create index audit_logs_relay_idx on audit_logs (tenant_id, id);

-- The dispatcher and the scheduler cross tenants, but only through these definer functions: they return ids,
-- never tenant rows, and the runtime role cannot read other tenants' tables directly.
create function flow_tenants() returns setof uuid
  language sql stable security definer set search_path = public
  as $$ select id from organizations $$;

create function flow_due_schedules(max_rows integer) returns table (tenant_id uuid, id uuid)
  language sql stable security definer set search_path = public
  as $$ select tenant_id, id from flow_schedules where not paused and next_run_at <= now()
        order by next_run_at limit max_rows $$;

-- Gives every organization a row for a platform schedule (a flow defined with a cron) it does not have yet.
create function flow_ensure_schedules(flow text, cron_expression text, zone text, first_run timestamptz)
  returns integer
  language plpgsql volatile security definer set search_path = public
  as $$
declare
  added integer;
begin
  insert into flow_schedules (tenant_id, id, flow_id, cron, timezone, next_run_at)
  select o.id, gen_random_uuid(), flow, cron_expression, zone, first_run from organizations o
  on conflict (tenant_id, flow_id) do nothing;
  get diagnostics added = row_count;
  return added;
end
$$;

-- Pending audit events across tenants, for the atrium_audit_outbox_pending gauge: a count, no rows.
create function audit_outbox_pending() returns bigint
  language sql stable security definer set search_path = public
  as $$ select count(*) from audit_logs a left join audit_relay_cursors c on c.tenant_id = a.tenant_id
        where c.last_audit_id is null or a.id > c.last_audit_id $$;

revoke all on function flow_tenants(), flow_due_schedules(integer),
  flow_ensure_schedules(text, text, text, timestamptz), audit_outbox_pending() from public;
grant execute on function flow_tenants(), flow_due_schedules(integer),
  flow_ensure_schedules(text, text, text, timestamptz), audit_outbox_pending() to atrium_app;

-- Starting and completing runs cost one round trip for a whole batch, across tenants: these functions set the
-- tenant of each group in turn (transaction-local), so row-level security applies exactly as in withTenant.
-- They are SECURITY INVOKER on purpose: the runtime role could set app.tenant_id itself anyway.
create function flow_start_attempts(worker text, tenants uuid[], runs uuid[], tokens uuid[], ready timestamptz[])
  returns table (tenant_id uuid, run_id uuid, attempt_id uuid, flow_id text, input jsonb, attempts integer,
                 started_at timestamptz, cancel_requested boolean, steps jsonb)
  language plpgsql volatile
  as $$
#variable_conflict use_column
declare
  tenant uuid;
begin
  foreach tenant in array (select array_agg(distinct t) from unnest(tenants) t) loop
    perform set_config('app.tenant_id', tenant::text, true);
    return query
      with claimed as (
        select c.run_id, c.lease_token, c.ready_at, gen_random_uuid() as attempt_id
        from unnest(tenants, runs, tokens, ready) as c(tenant_id, run_id, lease_token, ready_at)
        where c.tenant_id = tenant
      ), lost as (
        update flow_attempts a set status = 'lost', finished_at = now(),
          error = '{"message":"the worker stopped renewing its lease"}'
        from claimed c where a.tenant_id = tenant and a.run_id = c.run_id and a.status = 'running'
      ), started as (
        update flow_runs r set status = 'running', attempts = r.attempts + 1, started_at = coalesce(r.started_at, now())
        from claimed c where r.tenant_id = tenant and r.id = c.run_id and r.status in ('queued', 'running')
        returning r.id, r.flow_id, r.input, r.attempts, r.started_at
      ), inserted as (
        insert into flow_attempts (tenant_id, id, run_id, number, lease_token, worker_id, enqueued_at)
        select tenant, c.attempt_id, c.run_id, s.attempts, c.lease_token, worker, c.ready_at
        from claimed c join started s on s.id = c.run_id
      )
      select tenant, s.id, c.attempt_id, s.flow_id, s.input, s.attempts, s.started_at,
        coalesce(q.cancel_requested, false),
        coalesce((select jsonb_object_agg(st.name, st.result) from flow_steps st
                  where st.tenant_id = tenant and st.run_id = s.id), '{}'::jsonb)
      from started s join claimed c on c.run_id = s.id
      left join flow_queue q on q.tenant_id = tenant and q.run_id = s.id;
  end loop;
  perform set_config('app.tenant_id', '', true);
end
$$;

-- Successful completions: accepted only with the current lease token (the queue row is deleted by token).
create function flow_complete_succeeded(tenants uuid[], runs uuid[], tokens uuid[], attempt_ids uuid[], outputs jsonb[])
  returns table (run_id uuid)
  language plpgsql volatile
  as $$
#variable_conflict use_column
declare
  tenant uuid;
begin
  foreach tenant in array (select array_agg(distinct t) from unnest(tenants) t) loop
    perform set_config('app.tenant_id', tenant::text, true);
    return query
      with done as (
        select d.run_id, d.token, d.attempt_id, d.output
        from unnest(tenants, runs, tokens, attempt_ids, outputs) as d(tenant_id, run_id, token, attempt_id, output)
        where d.tenant_id = tenant
      ), accepted as (
        delete from flow_queue q using done d
        where q.tenant_id = tenant and q.run_id = d.run_id and q.lease_token = d.token
        returning q.run_id
      ), finished as (
        update flow_runs r set status = 'succeeded', output = d.output, error = null, finished_at = now()
        from accepted a join done d on d.run_id = a.run_id where r.tenant_id = tenant and r.id = a.run_id
      ), attempts as (
        update flow_attempts t set status = 'succeeded', finished_at = now()
        from accepted a join done d on d.run_id = a.run_id where t.tenant_id = tenant and t.id = d.attempt_id
      )
      select a.run_id from accepted a;
  end loop;
  perform set_config('app.tenant_id', '', true);
end
$$;

grant execute on function flow_start_attempts(text, uuid[], uuid[], uuid[], timestamptz[]),
  flow_complete_succeeded(uuid[], uuid[], uuid[], uuid[], jsonb[]) to atrium_app;

-- Claiming: tenants with queued rows by a loose index scan (one probe per tenant, not one row per job), fewest
-- running first, so a tenant flooding the queue cannot starve the others and the per-tenant limit applies; then
-- each tenant's head of queue in index order. The planner settings are pinned because flow_queue churns faster
-- than statistics follow: with stale statistics it bitmap-scans and sorts the whole backlog on every claim.
create function flow_claim_ready(worker text, max_rows integer, tenant_limit integer, lease_ms integer)
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
         and (r.leased_until is not null or r.dispatched_at is not null) and r.leased_until > now()) as running
    from tenants t where t.tenant_id is not null
    order by 2, random()
    limit 64
  ), picked as (
    select j.tenant_id, j.run_id from load l cross join lateral (
      select q.tenant_id, q.run_id from flow_queue q
      where q.tenant_id = l.tenant_id and q.ready_at <= now() and (q.leased_until is null or q.leased_until < now())
      order by q.priority desc, q.ready_at
      limit greatest(0, least(max_rows, tenant_limit - l.running))
      for update skip locked
    ) j limit max_rows
  )
  update flow_queue q set lease_token = gen_random_uuid(), worker_id = worker,
    leased_until = now() + lease_ms * interval '1 millisecond'
  from picked p where q.tenant_id = p.tenant_id and q.run_id = p.run_id
  returning q.tenant_id, q.run_id, q.lease_token, q.ready_at
$$;

-- JetStream backend: the same fair pick, marking rows dispatched (a new message sequence) instead of leasing.
-- Dispatched-but-unleased runs count against the tenant's limit; a dispatch not leased within redispatch_ms
-- (its message was lost with a broker's storage) is picked again.
create function flow_mark_dispatched(max_rows integer, tenant_limit integer, redispatch_ms integer)
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
         and (r.leased_until > now() or r.dispatched_at > now() - redispatch_ms * interval '1 millisecond')) as running
    from tenants t where t.tenant_id is not null
    order by 2, random()
    limit 64
  ), picked as (
    select j.tenant_id, j.run_id from load l cross join lateral (
      select q.tenant_id, q.run_id from flow_queue q
      where q.tenant_id = l.tenant_id and q.ready_at <= now() and (q.leased_until is null or q.leased_until < now())
        and (q.dispatched_at is null or q.dispatched_at < now() - redispatch_ms * interval '1 millisecond')
      order by q.priority desc, q.ready_at
      limit greatest(0, least(max_rows, tenant_limit - l.running))
      for update skip locked
    ) j limit max_rows
  )
  update flow_queue q set dispatch_seq = q.dispatch_seq + 1, dispatched_at = now()
  from picked p where q.tenant_id = p.tenant_id and q.run_id = p.run_id
  returning q.tenant_id, q.run_id, q.dispatch_seq, q.ready_at
$$;

grant execute on function flow_claim_ready(text, integer, integer, integer),
  flow_mark_dispatched(integer, integer, integer) to atrium_app;

-- JetStream backend: leases the runs named by delivered messages, if the message is the current dispatch.
create function flow_claim_dispatched(worker text, tenants uuid[], runs uuid[], seqs integer[], lease_ms integer)
  returns table (tenant_id uuid, run_id uuid, lease_token uuid, ready_at timestamptz)
  language sql volatile
  set enable_seqscan = off
  as $$
  update flow_queue q set lease_token = gen_random_uuid(), worker_id = worker,
    leased_until = now() + lease_ms * interval '1 millisecond'
  from unnest(tenants, runs, seqs) as d(tenant_id, run_id, seq)
  where q.tenant_id = d.tenant_id and q.run_id = d.run_id and q.dispatch_seq = d.seq
    and (q.leased_until is null or q.leased_until < now())
  returning q.tenant_id, q.run_id, q.lease_token, q.ready_at
$$;
grant execute on function flow_claim_dispatched(text, uuid[], uuid[], integer[], integer) to atrium_app;

-- Claim and start in one round trip (the worker's hot path). Claimed rows whose run no longer waits (finished,
-- cancelled, or its organization deleted) are dropped from the queue instead of being started.
create function flow_start_claimed(worker text, tenants uuid[], runs uuid[], tokens uuid[], ready timestamptz[])
  returns table (tenant_id uuid, run_id uuid, lease_token uuid, ready_at timestamptz, attempt_id uuid,
                 flow_id text, input jsonb, attempts integer, started_at timestamptz, cancel_requested boolean,
                 steps jsonb)
  language plpgsql volatile
  as $$
#variable_conflict use_column
declare
  started uuid[] := '{}';
  row record;
begin
  if runs is null or cardinality(runs) = 0 then
    return;
  end if;
  for row in
    select c.tenant_id as c_tenant, c.lease_token as c_token, c.ready_at as c_ready, s.*
    from unnest(tenants, runs, tokens, ready) as c(tenant_id, run_id, lease_token, ready_at)
    join flow_start_attempts(worker, tenants, runs, tokens, ready) s on s.run_id = c.run_id
  loop
    tenant_id := row.c_tenant; run_id := row.run_id; lease_token := row.c_token; ready_at := row.c_ready;
    attempt_id := row.attempt_id; flow_id := row.flow_id; input := row.input; attempts := row.attempts;
    started_at := row.started_at; cancel_requested := row.cancel_requested; steps := row.steps;
    started := started || row.run_id;
    return next;
  end loop;
  delete from flow_queue q using unnest(tenants, runs, tokens) as c(tenant_id, run_id, lease_token)
  where q.tenant_id = c.tenant_id and q.run_id = c.run_id and q.lease_token = c.lease_token
    and not (c.run_id = any(started));
end
$$;

create function flow_claim_and_start(worker text, max_rows integer, tenant_limit integer, lease_ms integer)
  returns table (tenant_id uuid, run_id uuid, lease_token uuid, ready_at timestamptz, attempt_id uuid,
                 flow_id text, input jsonb, attempts integer, started_at timestamptz, cancel_requested boolean,
                 steps jsonb)
  language plpgsql volatile
  as $$
#variable_conflict use_column
declare
  c_tenants uuid[]; c_runs uuid[]; c_tokens uuid[]; c_ready timestamptz[];
begin
  select array_agg(c.tenant_id), array_agg(c.run_id), array_agg(c.lease_token), array_agg(c.ready_at)
    into c_tenants, c_runs, c_tokens, c_ready
  from flow_claim_ready(worker, max_rows, tenant_limit, lease_ms) c;
  return query select * from flow_start_claimed(worker, c_tenants, c_runs, c_tokens, c_ready);
end
$$;

create function flow_claim_dispatched_and_start(worker text, tenants uuid[], runs uuid[], seqs integer[],
                                                lease_ms integer)
  returns table (tenant_id uuid, run_id uuid, lease_token uuid, ready_at timestamptz, attempt_id uuid,
                 flow_id text, input jsonb, attempts integer, started_at timestamptz, cancel_requested boolean,
                 steps jsonb)
  language plpgsql volatile
  as $$
#variable_conflict use_column
declare
  c_tenants uuid[]; c_runs uuid[]; c_tokens uuid[]; c_ready timestamptz[];
begin
  select array_agg(c.tenant_id), array_agg(c.run_id), array_agg(c.lease_token), array_agg(c.ready_at)
    into c_tenants, c_runs, c_tokens, c_ready
  from flow_claim_dispatched(worker, tenants, runs, seqs, lease_ms) c;
  return query select * from flow_start_claimed(worker, c_tenants, c_runs, c_tokens, c_ready);
end
$$;

grant execute on function flow_start_claimed(text, uuid[], uuid[], uuid[], timestamptz[]),
  flow_claim_and_start(text, integer, integer, integer),
  flow_claim_dispatched_and_start(text, uuid[], uuid[], integer[], integer) to atrium_app;
