import { fromPublicId } from '@atrium/contracts';
import { type Actor, AtriumError, type TenantContext } from '@atrium/core';
import { type Pool, withTenant } from '@atrium/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * What a route needs from its caller (route `config.auth`):
 * - `public`: nobody in particular (health, docs, sign-in);
 * - `actor`: an authenticated caller, with or without an organization (creating an organization);
 * - `tenant`: a caller acting in one organization. The default for every route under /api/, so an API route is
 *   never public by accident; routes outside /api/ (docs, health) default to public.
 */
export type AuthRequirement = 'public' | 'actor' | 'tenant';

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

export function installAuth(app: FastifyInstance, authenticators: Authenticator[]) {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request, reply) => {
    const requirement = request.routeOptions.config.auth ?? defaultRequirement(request.routeOptions.url);
    if (requirement === 'public' || request.is404) return;
    let principal: Principal | null = null;
    for (const authenticate of authenticators) {
      principal = await authenticate(request);
      if (principal) break;
    }
    if (!principal) throw new AtriumError('unauthenticated', 'send credentials: Authorization: Bearer <token>');
    if (requirement === 'tenant' && !principal.tenantId) {
      throw new AtriumError('unauthenticated', 'this route acts within an organization; none was selected');
    }
    if (requirement === 'tenant') {
      const needed = request.routeOptions.config.role ?? defaultRole(request.method);
      if (roles.indexOf(principal.role ?? 'readonly') < roles.indexOf(needed)) {
        throw new AtriumError('forbidden', `this needs the ${needed} role or higher`);
      }
    }
    request.principal = principal;
    // Both loggers: Fastify writes its "request completed" line through the reply's.
    request.log = reply.log = request.log.child({
      tenant_id: principal.tenantId,
      user_id: principal.actor.id,
      actor_type: principal.actor.type,
    });
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
