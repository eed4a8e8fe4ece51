import { fromPublicId, toPublicId } from '@atrium/contracts';
import { type Actor, AtriumError, type TenantContext } from '@atrium/core';
import { type Pool, withTenant } from '@atrium/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * What a route needs from its caller (route `config.auth`):
 * - `public`: nobody in particular (health, docs, sign-in);
 * - `actor`: an authenticated caller, with or without an organization (creating an organization);
 * - `tenant`: a caller acting in one organization. The default for every route under /api/, so an API route is
 *   never public by accident; routes outside /api/ (docs, health) default to public.
 * - `license`: a licensing machine route (acquire, heartbeat, release, status): a `tenant` caller as above, or a
 *   license key (`Authorization: License <key>`), whose principal may call these routes and nothing else.
 */
export type AuthRequirement = 'public' | 'actor' | 'tenant' | 'license';

/** Membership roles, weakest first (DESIGN.md §5). */
export const roles = ['readonly', 'member', 'admin', 'owner'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  actor: Actor;
  tenantId: string | null;
  /** The caller's role in that organization; null when it acts in none. */
  role: Role | null;
}

/** Recognizes a caller from the request, or returns null when its kind of credential is absent. */
export type Authenticator = (request: FastifyRequest) => Promise<Principal | null>;

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthRequirement;
    /** The least role a `tenant` route needs (Default: member for writes, readonly for reads). */
    role?: Role;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const devTenantHeader = 'x-atrium-dev-tenant';

/**
 * Development-only authentication: the organization named by a header, no credentials. Off unless
 * ATRIUM_DEV_TENANT_HEADER=true. It still refuses an organization that does not exist.
 */
export function devHeaderAuthenticator(pool: Pool): Authenticator {
  return async (request) => {
    const header = request.headers[devTenantHeader];
    const actor: Actor = { type: 'development', id: null };
    if (header === undefined) return { actor, tenantId: null, role: null };
    const tenantId = typeof header === 'string' ? fromPublicId('organization', header) : null;
    if (!tenantId) throw new AtriumError('unauthenticated', `${devTenantHeader} must be an organization id`);
    const exists = await withTenant(pool, tenantId, async (tx) => {
      const { rowCount } = await tx.query('select 1 from organizations where id = $1', [tenantId]);
      return rowCount === 1;
    });
    if (!exists) throw new AtriumError('unauthenticated', `${devTenantHeader} names no organization`);
    return { actor, tenantId, role: 'owner' };
  };
}

const licenseScheme = /^License\s+(lk_[A-Za-z0-9_-]{1,200})$/;

/**
 * A machine with no user presents its license key: `Authorization: License lk_…`. The key is resolved (hash →
 * organization, through the cached SECURITY DEFINER lookup, ADR 0102) to a principal bound to that one license.
 * Any other Authorization scheme is left to the next authenticator.
 */
export function licenseKeyAuthenticator(resolve: (key: string) => Promise<LicenseKeyOwner | null>): Authenticator {
  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('License ')) return null;
    const match = licenseScheme.exec(header);
    const owner = match?.[1] ? await resolve(match[1]) : null;
    if (!owner) throw new AtriumError('unauthenticated', 'the license key is not valid');
    return {
      actor: { type: 'license', id: toPublicId('license', owner.licenseId) },
      tenantId: owner.tenantId,
      role: null,
    };
  };
}

export interface LicenseKeyOwner {
  tenantId: string;
  licenseId: string;
}

export function installAuth(app: FastifyInstance, authenticators: Authenticator[]) {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const requirement = request.routeOptions.config.auth ?? defaultRequirement(request.routeOptions.url);
    if (requirement === 'public' || request.is404) return;
    let principal: Principal | null = null;
    for (const authenticate of authenticators) {
      principal = await authenticate(request);
      if (principal) break;
    }
    if (!principal) throw new AtriumError('unauthenticated', 'send credentials: Authorization: Bearer <token>');
    const isLicenseKey = principal.actor.type === 'license';
    if (isLicenseKey && requirement !== 'license') {
      throw new AtriumError('forbidden', 'a license key may only acquire, heartbeat, release and read status');
    }
    if ((requirement === 'tenant' || requirement === 'license') && !principal.tenantId) {
      throw new AtriumError('unauthenticated', 'this route acts within an organization; none was selected');
    }
    if (requirement === 'tenant' || (requirement === 'license' && !isLicenseKey)) {
      const needed = request.routeOptions.config.role ?? defaultRole(request.method);
      if (roles.indexOf(principal.role ?? 'readonly') < roles.indexOf(needed)) {
        throw new AtriumError('forbidden', `this needs the ${needed} role or higher`);
      }
    }
    request.principal = principal;
    request.log = request.log.child({ tenant_id: principal.tenantId, user_id: principal.actor.id });
  });
}

/** The tenant context of an authenticated request, for a `tenant` route's handler. */
export function tenantContext(request: FastifyRequest, pool: Pool): TenantContext {
  const principal = request.principal;
  if (!principal?.tenantId) throw new Error(`route ${request.routeOptions.url} used a tenant without requiring one`);
  return { pool, tenantId: principal.tenantId, actor: principal.actor, requestId: request.id };
}

export function defaultRequirement(url: string | undefined): AuthRequirement {
  return url?.startsWith('/api/') ? 'tenant' : 'public';
}

function defaultRole(method: string): Role {
  return method === 'GET' || method === 'HEAD' ? 'readonly' : 'member';
}
