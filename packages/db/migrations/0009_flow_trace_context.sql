-- OpenTelemetry (ADR 0009): a run keeps the trace context of the request or run that enqueued it, and the claim
-- functions hand it to the worker, so the span of each attempt joins the trace of the work that started it.
-- {"traceparent": "00-…", "tracestate": "…"} as W3C Trace Context carries it; null when the enqueuer was not traced.
-- Only the return types change (one more column, last): a worker of the previous version reads `c.*` and ignores it,
-- so a rolling upgrade needs nothing. A function's return type cannot be changed in place; they are recreated.
alter table flow_runs add column trace_context jsonb;

drop function flow_claim_and_start(text, integer, integer, integer);
drop function flow_claim_dispatched_and_start(text, uuid[], uuid[], integer[], integer);
drop function flow_start_claimed(text, uuid[], uuid[], uuid[], timestamptz[]);
drop function flow_start_attempts(text, uuid[], uuid[], uuid[], timestamptz[]);

-- As in 0004, plus the run's trace_context.
create function flow_start_attempts(worker text, tenants uuid[], runs uuid[], tokens uuid[], ready timestamptz[])
  returns table (tenant_id uuid, run_id uuid, attempt_id uuid, flow_id text, input jsonb, attempts integer,
                 started_at timestamptz, cancel_requested boolean, steps jsonb, trace_context jsonb)
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
        returning r.id, r.flow_id, r.input, r.attempts, r.started_at, r.trace_context
      ), inserted as (
        insert into flow_attempts (tenant_id, id, run_id, number, lease_token, worker_id, enqueued_at)
        select tenant, c.attempt_id, c.run_id, s.attempts, c.lease_token, worker, c.ready_at
        from claimed c join started s on s.id = c.run_id
      )
      select tenant, s.id, c.attempt_id, s.flow_id, s.input, s.attempts, s.started_at,
        coalesce(q.cancel_requested, false),
        coalesce((select jsonb_object_agg(st.name, st.result) from flow_steps st
                  where st.tenant_id = tenant and st.run_id = s.id), '{}'::jsonb),
        s.trace_context
      from started s join claimed c on c.run_id = s.id
      left join flow_queue q on q.tenant_id = tenant and q.run_id = s.id;
  end loop;
  perform set_config('app.tenant_id', '', true);
end
$$;

grant execute on function flow_start_attempts(text, uuid[], uuid[], uuid[], timestamptz[]) to atrium_app;

create function flow_start_claimed(worker text, tenants uuid[], runs uuid[], tokens uuid[], ready timestamptz[])
  returns table (tenant_id uuid, run_id uuid, lease_token uuid, ready_at timestamptz, attempt_id uuid,
                 flow_id text, input jsonb, attempts integer, started_at timestamptz, cancel_requested boolean,
                 steps jsonb, trace_context jsonb)
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
    trace_context := row.trace_context;
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
                 steps jsonb, trace_context jsonb)
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
                 steps jsonb, trace_context jsonb)
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
