-- Identity: people are global (one person, many organizations); what an organization grants them is tenant data.
-- See docs/adr/0007-identity.md.

create function app_current_user() returns uuid
  language sql stable parallel safe
  as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

create table users (
  id uuid primary key,
  email text not null,
  name text,
  password_hash text,
  email_verified boolean not null default false,
  -- TOTP secret, AES-256-GCM encrypted with the server secret (never stored in clear).
  totp_secret_encrypted text,
  totp_enabled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint users_email_key unique (email),
  constraint users_email_lower check (email = lower(email))
);

create table user_recovery_codes (
  user_id uuid not null references users (id) on delete cascade,
  code_hash text not null,
  used_at timestamptz,
  primary key (user_id, code_hash)
);

create table oidc_identities (
  issuer text not null,
  subject text not null,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (issuer, subject)
);
create index oidc_identities_user_idx on oidc_identities (user_id);

-- Refresh tokens belong to the person; the organization they were issued for is only the session's default.
create table refresh_tokens (
  id uuid primary key,
  family_id uuid not null,
  user_id uuid not null references users (id) on delete cascade,
  active_organization_id uuid references organizations (id) on delete cascade,
  token_hash text not null,
  amr text[] not null default '{}',
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  constraint refresh_tokens_hash_key unique (token_hash)
);
create index refresh_tokens_family_idx on refresh_tokens (family_id, created_at);
create index refresh_tokens_user_idx on refresh_tokens (user_id, active_organization_id);

-- Keys that sign access tokens, shared by every API process; private halves encrypted with the server secret.
create table auth_signing_keys (
  kid text primary key,
  alg text not null,
  public_jwk jsonb not null,
  private_jwk_encrypted text not null,
  created_at timestamptz not null default now(),
  -- After this, the key signs nothing new; it stays published until tokens it signed have expired.
  retire_at timestamptz not null
);

create table memberships (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member', 'readonly')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint memberships_user_key unique (tenant_id, user_id)
);
-- The one index not led by tenant_id: finding a person's organizations at sign-in (a fan-out on Citus).
create index memberships_by_user_idx on memberships (user_id);

create table invitations (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  email text not null,
  role text not null check (role in ('owner', 'admin', 'member', 'readonly')),
  token_hash text not null,
  invited_by uuid references users (id) on delete set null,
  expires_at timestamptz not null,
  accepted_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint invitations_token_key unique (tenant_id, token_hash)
);

create table api_keys (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  name text not null,
  -- The first characters of the key, shown in lists so people can tell keys apart.
  display_prefix text not null,
  key_hash text not null,
  role text not null check (role in ('owner', 'admin', 'member', 'readonly')),
  created_by uuid references users (id) on delete set null,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint api_keys_hash_key unique (tenant_id, key_hash)
);

do $$
declare
  t text;
begin
  foreach t in array array['memberships', 'invitations', 'api_keys'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = (select app_current_tenant())) '
      'with check (tenant_id = (select app_current_tenant()))', t);
  end loop;
end
$$;

-- A signed-in person may read their own memberships, and the organizations they belong to, across tenants
-- (sign-in, /me, switching organization). Reads only; every write stays within one tenant.
create policy own_memberships on memberships for select using (user_id = (select app_current_user()));
create policy member_organizations on organizations for select using (
  exists (select 1 from memberships m where m.tenant_id = organizations.id and m.user_id = (select app_current_user()))
);

grant select, insert, update, delete on users, user_recovery_codes, oidc_identities, refresh_tokens,
  memberships, invitations, api_keys to atrium_app;
grant select, insert, update on auth_signing_keys to atrium_app;
