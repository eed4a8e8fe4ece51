-- Flows, closing gaps (docs/flows.md):
--   an attempt a draining worker hands back is recorded as handed_back (not lost, not counted toward maxAttempts);
--   the audit relay claims a batch and commits before it calls the webhook (audit_deliveries).

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
