import type { Pool } from '@atrium/db';

export type ActorType = 'user' | 'api_key' | 'license' | 'system' | 'development';

export interface Actor {
  type: ActorType;
  id: string | null;
}

/** Everything a tenant-scoped service call needs, resolved by the edge from the authenticated request. */
export interface TenantContext {
  pool: Pool;
  /** UUID of the organization (the tenant). */
  tenantId: string;
  actor: Actor;
  requestId: string | null;
}
