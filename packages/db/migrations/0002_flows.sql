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
create index flow_runs_status_idx on flow_runs (tenant_id, status, id);

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
