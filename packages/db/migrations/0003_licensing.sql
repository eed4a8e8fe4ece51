-- Licensing: licenses (keys stored as SHA-256 only), node-locked fingerprints, the Postgres seat store's leases,
-- the lease journal (every acquire/release/expiry, for analytics and for rebuilding Redis), the cross-tenant key
-- index behind one SECURITY DEFINER lookup (docs/adr/0102), and the shared token signing keys (docs/adr/0101).

create table licenses (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  key_hash bytea not null,
  key_prefix text not null,
  name text,
  product text,
  max_seats integer not null check (max_seats > 0),
  expires_at timestamptz,
  suspended boolean not null default false,
  mode text not null check (mode in ('floating', 'node_locked')),
  session_ttl_seconds integer not null check (session_ttl_seconds > 0),
  heartbeat_interval_seconds integer not null check (heartbeat_interval_seconds > 0),
  grace_seconds integer not null check (grace_seconds >= 0),
  max_fingerprints integer check (max_fingerprints > 0),
  token_ttl_seconds integer not null check (token_ttl_seconds > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint licenses_key_hash_key unique (tenant_id, key_hash)
);

create table license_fingerprints (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  license_id uuid not null,
  fingerprint text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint license_fingerprints_license_fkey foreign key (tenant_id, license_id)
    references licenses (tenant_id, id) on delete cascade,
  constraint license_fingerprints_fingerprint_key unique (tenant_id, license_id, fingerprint)
);

-- The Postgres seat store: one row per live (or not yet swept) lease. One lease per fingerprint and license.
create table license_leases (
  tenant_id uuid not null references organizations (id) on delete cascade,
  session_id uuid not null,
  license_id uuid not null,
  fingerprint text not null,
  acquired_at timestamptz not null,
  expires_at timestamptz not null,
  primary key (tenant_id, session_id),
  constraint license_leases_license_fkey foreign key (tenant_id, license_id)
    references licenses (tenant_id, id) on delete cascade,
  constraint license_leases_fingerprint_key unique (tenant_id, license_id, fingerprint)
);
create index license_leases_expiry_idx on license_leases (tenant_id, license_id, expires_at);

-- Append-only history of seats: acquired, released, expired (occurred_at = the lease's expiry), denied.
-- No foreign key to licenses: the history outlives a deleted license.
create table license_journal (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  license_id uuid not null,
  session_id uuid,
  fingerprint text,
  event text not null check (event in ('acquired', 'released', 'expired', 'denied')),
  occurred_at timestamptz not null,
  primary key (tenant_id, id)
);
create index license_journal_license_idx on license_journal (tenant_id, license_id, occurred_at);
create index license_journal_session_idx on license_journal (tenant_id, license_id, session_id);

do $$
declare
  t text;
begin
  foreach t in array array['licenses', 'license_fingerprints', 'license_leases', 'license_journal'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = (select app_current_tenant())) '
      'with check (tenant_id = (select app_current_tenant()))', t);
  end loop;
end
$$;

grant select, insert, update, delete on licenses, license_fingerprints, license_leases to atrium_app;
-- The journal is history: the runtime role appends and reads.
grant select, insert on license_journal to atrium_app;

-- The PostgreSQL seat store's acquire, as one server-side step: the license row lock is held for microseconds
-- instead of across seven client round trips (ADR 0100). SECURITY INVOKER: row-level security still applies.
create function license_seat_acquire(
  p_tenant uuid, p_license uuid, p_session uuid, p_fingerprint text, p_max integer, p_lifetime_ms integer)
  returns table (kind text, session_id uuid, fingerprint text, acquired_at timestamptz, expires_at timestamptz,
                 used integer, expired jsonb)
  language plpgsql security invoker
  set search_path = pg_catalog, public
  as $$
#variable_conflict use_column
declare
  v_now timestamptz := clock_timestamp();
  v_until timestamptz := clock_timestamp() + p_lifetime_ms * interval '1 millisecond';
  v_expired jsonb;
  v_used integer;
  v_lease public.license_leases;
begin
  perform 1 from public.licenses l where l.tenant_id = p_tenant and l.id = p_license for update;
  if not found then
    raise exception 'license % not found', p_license using errcode = 'P0002';
  end if;
  with gone as (
    delete from public.license_leases l
    where l.tenant_id = p_tenant and l.license_id = p_license and l.expires_at <= v_now
    returning l.session_id, l.fingerprint, l.acquired_at, l.expires_at)
  select coalesce(jsonb_agg(to_jsonb(gone)), '[]'::jsonb) into v_expired from gone;
  insert into public.license_journal (tenant_id, id, license_id, session_id, fingerprint, event, occurred_at)
    select p_tenant, gen_random_uuid(), p_license, (e ->> 'session_id')::uuid, e ->> 'fingerprint', 'expired',
           (e ->> 'expires_at')::timestamptz
    from jsonb_array_elements(v_expired) e;
  update public.license_leases l set expires_at = v_until
    where l.tenant_id = p_tenant and l.license_id = p_license and l.fingerprint = p_fingerprint
    returning l.* into v_lease;
  select count(*)::int into v_used from public.license_leases l
    where l.tenant_id = p_tenant and l.license_id = p_license;
  if v_lease.session_id is not null then
    return query select 'existing'::text, v_lease.session_id, v_lease.fingerprint, v_lease.acquired_at,
                        v_lease.expires_at, v_used, v_expired;
    return;
  end if;
  if v_used >= p_max then
    return query select 'exhausted'::text, null::uuid, null::text, null::timestamptz, null::timestamptz, v_used,
                        v_expired;
    return;
  end if;
  insert into public.license_leases (tenant_id, session_id, license_id, fingerprint, acquired_at, expires_at)
    values (p_tenant, p_session, p_license, p_fingerprint, v_now, v_until);
  insert into public.license_journal (tenant_id, id, license_id, session_id, fingerprint, event, occurred_at)
    values (p_tenant, gen_random_uuid(), p_license, p_session, p_fingerprint, 'acquired', v_now);
  return query select 'acquired'::text, p_session, p_fingerprint, v_now, v_until, v_used + 1, v_expired;
end
$$;
revoke all on function license_seat_acquire(uuid, uuid, uuid, text, integer, integer) from public;
grant execute on function license_seat_acquire(uuid, uuid, uuid, text, integer, integer) to atrium_app;

-- Global: which organization owns a key hash. A machine that presents only its license key has no tenant yet,
-- and row-level security (rightly) hides every license until one is set. The runtime role gets no privilege on
-- this table; a trigger owned by the owner role keeps it in step with licenses, and license_key_owner() answers
-- exactly one question about it. Keys are 256 random bits, so the hash is globally unique.
create table license_key_index (
  key_hash bytea primary key,
  organization_id uuid not null,
  license_id uuid not null
);
-- RLS enabled with no policy: any role but the owner sees no rows even if granted by mistake. Not FORCEd, so the
-- owner's SECURITY DEFINER functions below read and write it.
alter table license_key_index enable row level security;

create function license_key_index_sync() returns trigger
  language plpgsql security definer
  set search_path = pg_catalog, public
  as $$
begin
  if tg_op = 'DELETE' then
    delete from public.license_key_index where key_hash = old.key_hash;
    return old;
  end if;
  insert into public.license_key_index (key_hash, organization_id, license_id)
    values (new.key_hash, new.tenant_id, new.id);
  return new;
end
$$;
create trigger licenses_key_index_sync after insert or delete on licenses
  for each row execute function license_key_index_sync();

-- The one cross-tenant read the runtime role may make: key hash in, (tenant, license) out, nothing else.
create function license_key_owner(p_key_hash bytea)
  returns table (tenant_id uuid, license_id uuid)
  language sql stable security definer
  set search_path = pg_catalog, public
  as $$ select organization_id, license_id from public.license_key_index where key_hash = p_key_hash $$;
revoke all on function license_key_owner(bytea) from public;
grant execute on function license_key_owner(bytea) to atrium_app;
revoke all on function license_key_index_sync() from public;

-- Global: the short-lived token signing keys every API process shares (docs/adr/0101). The private key is
-- AES-256-GCM-encrypted under a key only the root key's holder can derive; the rest is public by design.
create table signing_keys (
  kid text primary key,
  alg text not null check (alg in ('EdDSA', 'ES256')),
  public_jwk jsonb not null,
  private_key_encrypted bytea not null,
  certificate text not null,
  root_kid text not null,
  sign_from timestamptz not null,
  sign_until timestamptz not null,
  publish_until timestamptz not null,
  created_at timestamptz not null default now()
);
create index signing_keys_publish_idx on signing_keys (publish_until);
grant select, insert on signing_keys to atrium_app;
