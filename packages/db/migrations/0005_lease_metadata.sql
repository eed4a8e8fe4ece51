-- Acquire metadata (the client's own key/value pairs, bounded by the API contract) lives with the lease and in the
-- journal's 'acquired' entry, so a Redis rebuilt from the journal keeps it (ADR 0100). Only 'acquired' entries
-- carry it; the other events leave it null.

alter table license_leases add column metadata jsonb not null default '{}'::jsonb;
alter table license_journal add column metadata jsonb;

-- The PostgreSQL seat store's acquire, now storing the metadata. Replaced rather than overloaded: a six-argument
-- call from an API process that has not been upgraded yet still resolves, to this function with no metadata.
drop function license_seat_acquire(uuid, uuid, uuid, text, integer, integer);
create function license_seat_acquire(
  p_tenant uuid, p_license uuid, p_session uuid, p_fingerprint text, p_max integer, p_lifetime_ms integer,
  p_metadata jsonb default '{}'::jsonb)
  returns table (kind text, session_id uuid, fingerprint text, acquired_at timestamptz, expires_at timestamptz,
                 metadata jsonb, used integer, expired jsonb)
  language plpgsql security invoker
  set search_path = pg_catalog, public
  as $$
#variable_conflict use_column
declare
  v_now timestamptz := clock_timestamp();
  v_until timestamptz := clock_timestamp() + p_lifetime_ms * interval '1 millisecond';
  v_metadata jsonb := coalesce(p_metadata, '{}'::jsonb);
  v_expired jsonb;
  v_used integer;
  v_lease public.license_leases;
  v_live integer;
  v_stale integer;
  v_mine boolean;
begin
  -- A full license answers at once instead of queueing for its lock (a crowd of machines at a full license must
  -- not hold the pool's connections): when, as of this statement's snapshot, live leases fill every seat, none has
  -- expired and this fingerprint holds none, the locked path below could only answer 'exhausted' too.
  select count(*) filter (where l.expires_at > v_now)::int, count(*) filter (where l.expires_at <= v_now)::int,
         coalesce(bool_or(l.fingerprint = p_fingerprint), false)
    into v_live, v_stale, v_mine
    from public.license_leases l where l.tenant_id = p_tenant and l.license_id = p_license;
  if v_live >= p_max and v_stale = 0 and not v_mine then
    return query select 'exhausted'::text, null::uuid, null::text, null::timestamptz, null::timestamptz,
                        null::jsonb, v_live, '[]'::jsonb;
    return;
  end if;
  perform 1 from public.licenses l where l.tenant_id = p_tenant and l.id = p_license for update;
  if not found then
    raise exception 'license % not found', p_license using errcode = 'P0002';
  end if;
  with gone as (
    delete from public.license_leases l
    where l.tenant_id = p_tenant and l.license_id = p_license and l.expires_at <= v_now
    returning l.session_id, l.fingerprint, l.acquired_at, l.expires_at, l.metadata)
  select coalesce(jsonb_agg(to_jsonb(gone)), '[]'::jsonb) into v_expired from gone;
  insert into public.license_journal (tenant_id, id, license_id, session_id, fingerprint, event, occurred_at)
    select p_tenant, gen_random_uuid(), p_license, (e ->> 'session_id')::uuid, e ->> 'fingerprint', 'expired',
           (e ->> 'expires_at')::timestamptz
    from jsonb_array_elements(v_expired) e;
  -- The fingerprint's live lease is extended and keeps the metadata it was acquired with, as the journal has it.
  update public.license_leases l set expires_at = v_until
    where l.tenant_id = p_tenant and l.license_id = p_license and l.fingerprint = p_fingerprint
    returning l.* into v_lease;
  select count(*)::int into v_used from public.license_leases l
    where l.tenant_id = p_tenant and l.license_id = p_license;
  if v_lease.session_id is not null then
    return query select 'existing'::text, v_lease.session_id, v_lease.fingerprint, v_lease.acquired_at,
                        v_lease.expires_at, v_lease.metadata, v_used, v_expired;
    return;
  end if;
  if v_used >= p_max then
    return query select 'exhausted'::text, null::uuid, null::text, null::timestamptz, null::timestamptz,
                        null::jsonb, v_used, v_expired;
    return;
  end if;
  insert into public.license_leases (tenant_id, session_id, license_id, fingerprint, acquired_at, expires_at,
                                     metadata)
    values (p_tenant, p_session, p_license, p_fingerprint, v_now, v_until, v_metadata);
  insert into public.license_journal (tenant_id, id, license_id, session_id, fingerprint, event, occurred_at,
                                      metadata)
    values (p_tenant, gen_random_uuid(), p_license, p_session, p_fingerprint, 'acquired', v_now, v_metadata);
  return query select 'acquired'::text, p_session, p_fingerprint, v_now, v_until, v_metadata, v_used + 1,
                      v_expired;
end
$$;
revoke all on function license_seat_acquire(uuid, uuid, uuid, text, integer, integer, jsonb) from public;
grant execute on function license_seat_acquire(uuid, uuid, uuid, text, integer, integer, jsonb) to atrium_app;
