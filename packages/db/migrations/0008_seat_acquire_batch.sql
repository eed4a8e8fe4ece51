-- Acquires of one license that reach one API process in the same event-loop turn are decided by one call, in one
-- transaction (ADR 0100): one row lock, one sweep, one WAL flush for all of them, instead of one each. The
-- license's row lock is held until commit, so one flush per acquire was what bounded a hot license at a few
-- hundred acquires per second. The requests are decided one after the other, in the order given, exactly as
-- separate calls of license_seat_acquire would decide them: a repeated fingerprint gets the lease the first one
-- took, and the seat limit holds. license_seat_acquire stays, for processes of the previous version during a
-- rolling upgrade; both take the same lock.
--
-- p_requests: [{"s": session id, "f": fingerprint, "m": metadata object}, ...]. One row per request, numbered
-- by `ord` from 1; the leases the sweep expired are reported with the first row only.
create function license_seat_acquire_batch(
  p_tenant uuid, p_license uuid, p_max integer, p_lifetime_ms integer, p_requests jsonb)
  returns table (ord integer, kind text, session_id uuid, fingerprint text, acquired_at timestamptz,
                 expires_at timestamptz, metadata jsonb, used integer, expired jsonb)
  language plpgsql security invoker
  set search_path = pg_catalog, public
  as $$
#variable_conflict use_column
declare
  v_now timestamptz := clock_timestamp();
  v_until timestamptz := clock_timestamp() + p_lifetime_ms * interval '1 millisecond';
  v_fingerprints text[] := array(select r ->> 'f' from jsonb_array_elements(p_requests) r);
  v_expired jsonb;
  v_used integer;
  v_stale integer;
  v_held jsonb;
  v_lease public.license_leases;
  v_request jsonb;
  v_ord integer;
  v_fingerprint text;
  v_at integer;
  -- The leases this call takes, written together after the loop.
  v_sessions uuid[] := '{}';
  v_taken text[] := '{}';
  v_metadata jsonb[] := '{}';
begin
  -- Unlike license_seat_acquire there is no unlocked look first for a full license: an API process sends one
  -- batch per license at a time (TurnBatcher oneInFlightPerKey), so a crowd at a full license holds at most one
  -- connection per process. Each batch reads the lease set once, and deletes expired leases only when that read
  -- found some.
  perform 1 from public.licenses l where l.tenant_id = p_tenant and l.id = p_license for update;
  if not found then
    raise exception 'license % not found', p_license using errcode = 'P0002';
  end if;
  -- One pass over the license's leases: how many are live, how many expired, and which of these fingerprints
  -- hold a live one (fingerprint -> session). Only when some expired does a second statement delete them.
  select count(*) filter (where l.expires_at > v_now)::int, count(*) filter (where l.expires_at <= v_now)::int,
         coalesce(jsonb_object_agg(l.fingerprint, l.session_id)
                    filter (where l.expires_at > v_now and l.fingerprint = any(v_fingerprints)), '{}'::jsonb)
    into v_used, v_stale, v_held
    from public.license_leases l where l.tenant_id = p_tenant and l.license_id = p_license;
  v_expired := '[]'::jsonb;
  if v_stale > 0 then
    with gone as (
      delete from public.license_leases l
      where l.tenant_id = p_tenant and l.license_id = p_license and l.expires_at <= v_now
      returning l.session_id, l.fingerprint, l.acquired_at, l.expires_at, l.metadata)
    select coalesce(jsonb_agg(to_jsonb(gone)), '[]'::jsonb) into v_expired from gone;
    insert into public.license_journal (tenant_id, id, license_id, session_id, fingerprint, event, occurred_at)
      select p_tenant, gen_random_uuid(), p_license, (e ->> 'session_id')::uuid, e ->> 'fingerprint', 'expired',
             (e ->> 'expires_at')::timestamptz
      from jsonb_array_elements(v_expired) e;
  end if;

  for v_request, v_ord in select r.value, r.ordinality::integer from jsonb_array_elements(p_requests) with ordinality r
  loop
    v_fingerprint := v_request ->> 'f';
    v_at := array_position(v_taken, v_fingerprint);
    if v_at is not null then
      -- An earlier request of this batch took the seat for this fingerprint: the same lease.
      return query select v_ord, 'existing'::text, v_sessions[v_at], v_fingerprint, v_now, v_until, v_metadata[v_at],
                          v_used, v_expired;
    elsif v_held ? v_fingerprint then
      -- The fingerprint's live lease is extended and keeps the metadata it was acquired with.
      update public.license_leases l set expires_at = v_until
        where l.tenant_id = p_tenant and l.session_id = (v_held ->> v_fingerprint)::uuid
        returning l.* into v_lease;
      return query select v_ord, 'existing'::text, v_lease.session_id, v_lease.fingerprint, v_lease.acquired_at,
                          v_lease.expires_at, v_lease.metadata, v_used, v_expired;
    elsif v_used >= p_max then
      return query select v_ord, 'exhausted'::text, null::uuid, null::text, null::timestamptz, null::timestamptz,
                          null::jsonb, v_used, v_expired;
    else
      v_sessions := v_sessions || (v_request ->> 's')::uuid;
      v_taken := v_taken || v_fingerprint;
      v_metadata := v_metadata || coalesce(v_request -> 'm', '{}'::jsonb);
      v_used := v_used + 1;
      return query select v_ord, 'acquired'::text, (v_request ->> 's')::uuid, v_fingerprint, v_now, v_until,
                          coalesce(v_request -> 'm', '{}'::jsonb), v_used, v_expired;
    end if;
    v_expired := '[]'::jsonb;
  end loop;

  insert into public.license_leases (tenant_id, session_id, license_id, fingerprint, acquired_at, expires_at, metadata)
    select p_tenant, n.session_id, p_license, n.fingerprint, v_now, v_until, n.metadata
    from unnest(v_sessions, v_taken, v_metadata) as n(session_id, fingerprint, metadata);
  insert into public.license_journal (tenant_id, id, license_id, session_id, fingerprint, event, occurred_at,
                                      metadata)
    select p_tenant, gen_random_uuid(), p_license, n.session_id, n.fingerprint, 'acquired', v_now, n.metadata
    from unnest(v_sessions, v_taken, v_metadata) as n(session_id, fingerprint, metadata);
end
$$;
revoke all on function license_seat_acquire_batch(uuid, uuid, integer, integer, jsonb) from public;
grant execute on function license_seat_acquire_batch(uuid, uuid, integer, integer, jsonb) to atrium_app;

-- Heartbeats change only expires_at. With no index on it, PostgreSQL rewrites the row on its own page (a HOT
-- update) instead of adding an entry to every index of the table for each heartbeat, the busiest call of all.
-- The expiry index served sweeps, which now read the license's leases through the (tenant_id, license_id,
-- fingerprint) index; every acquire batch reads them all anyway to count them. Pages keep a fifth free for the
-- rewritten rows.
drop index license_leases_expiry_idx;
alter table license_leases set (fillfactor = 80);
