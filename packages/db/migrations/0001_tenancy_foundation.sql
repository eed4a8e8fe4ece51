-- Tenancy foundation: the runtime role, the tenant lookup used by every policy, organizations (the tenant),
-- workspaces, projects, the append-only audit log and idempotency records.
-- Rules (docs/architecture.md, DESIGN.md §4): every tenant table has tenant_id in its primary key, in every
-- foreign key and unique constraint, indexes lead with tenant_id, and RLS is ENABLE + FORCE.

do $$
begin
  create role atrium_app login nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
exception when duplicate_object then
  -- Roles are cluster-wide: another database on this server already created it. Make sure it is still safe.
  alter role atrium_app nosuperuser nobypassrls nocreatedb nocreaterole;
end
$$;

grant usage on schema public to atrium_app;

-- The tenant of the current transaction, or null when none is set. After a pooled connection's transaction
-- ends, current_setting returns '' rather than null, hence nullif. Policies call it as (select ...) so it is
-- evaluated once per statement.
create function app_current_tenant() returns uuid
  language sql stable parallel safe
  as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create table organizations (
  id uuid primary key,
  slug text not null,
  name text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Slugs are global on purpose: they name the organization's subdomain.
  constraint organizations_slug_key unique (slug)
);
alter table organizations enable row level security;
alter table organizations force row level security;
create policy tenant_isolation on organizations
  using (id = (select app_current_tenant()))
  with check (id = (select app_current_tenant()));

create table workspaces (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  name text not null,
  description text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint workspaces_name_key unique (tenant_id, name)
);

create table projects (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  workspace_id uuid not null,
  name text not null,
  description text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  -- A workspace with projects cannot be deleted by accident: the API answers 409 resource_in_use.
  constraint projects_workspace_fkey foreign key (tenant_id, workspace_id) references workspaces (tenant_id, id) on delete restrict,
  constraint projects_name_key unique (tenant_id, workspace_id, name)
);
create index projects_workspace_idx on projects (tenant_id, workspace_id, id);

create table audit_logs (
  tenant_id uuid not null references organizations (id) on delete cascade,
  id uuid not null,
  occurred_at timestamptz not null default now(),
  actor_type text not null,
  actor_id text,
  action text not null,
  resource_type text not null,
  resource_id text,
  request_id text,
  data jsonb not null default '{}',
  primary key (tenant_id, id)
);
create index audit_logs_action_idx on audit_logs (tenant_id, action, id);
create index audit_logs_resource_idx on audit_logs (tenant_id, resource_type, resource_id, id);

create table idempotency_keys (
  -- Deferred: creating an organization records its key before the organization row exists.
  tenant_id uuid not null references organizations (id) on delete cascade deferrable initially deferred,
  key text not null,
  operation text not null,
  request_hash text not null,
  response_status integer,
  response_body jsonb,
  created_at timestamptz not null default now(),
  primary key (tenant_id, key)
);

do $$
declare
  t text;
begin
  foreach t in array array['workspaces', 'projects', 'audit_logs', 'idempotency_keys'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = (select app_current_tenant())) '
      'with check (tenant_id = (select app_current_tenant()))', t);
  end loop;
end
$$;

grant select, insert, update, delete on organizations, workspaces, projects, idempotency_keys to atrium_app;
-- The audit log is append-only for the runtime role: no update, no delete.
grant select, insert on audit_logs to atrium_app;
