-- The audit relay reads events in commit order, so an event whose transaction commits late is never passed over
-- (docs/flows.md, audit relay). Each event carries the id of the transaction that wrote it; the relay reads only
-- events of transactions older than every transaction still running (its snapshot's xmin), in (tx_id, id) order,
-- and its cursor is that pair. Events written before this migration get tx_id 0: they come first, in id order,
-- as before.
alter table audit_logs add column tx_id xid8 not null default '0';
alter table audit_logs alter column tx_id set default pg_current_xact_id();
create index audit_logs_commit_order_idx on audit_logs (tenant_id, tx_id, id);
-- The relay's old index duplicated the primary key (tenant_id, id): writes keep the same number of indexes.
drop index audit_logs_relay_idx;

alter table audit_relay_cursors add column last_tx_id xid8;
update audit_relay_cursors set last_tx_id = '0' where last_audit_id is not null;

-- Pending audit events: those after the cursor, and those of batches claimed but not yet delivered.
create or replace function audit_outbox_pending() returns bigint
  language sql stable security definer set search_path = public
  as $$ select (select count(*) from audit_logs a left join audit_relay_cursors c on c.tenant_id = a.tenant_id
                where c.last_audit_id is null or (a.tx_id, a.id) > (c.last_tx_id, c.last_audit_id))
             + (select coalesce(sum(cardinality(audit_ids)), 0) from audit_deliveries) $$;
