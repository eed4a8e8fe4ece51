import type { Pool } from '@atrium/db';
import type { AccessTokens } from './access-tokens.ts';
import type { SecretBox } from './secrets.ts';

export type Role = 'owner' | 'admin' | 'member' | 'readonly';
export const roleOrder: readonly Role[] = ['readonly', 'member', 'admin', 'owner'];

export function atLeast(role: Role, needed: Role): boolean {
  return roleOrder.indexOf(role) >= roleOrder.indexOf(needed);
}

/** What the identity services share, built once by the composition root. */
export interface IdentityDeps {
  pool: Pool;
  tokens: AccessTokens;
  secrets: SecretBox;
  /** Refresh token lifetime (Default: 7 days). */
  refreshTokenTtlSeconds: number;
  /** Invitation lifetime (Default: 7 days). */
  invitationTtlSeconds: number;
  /** Hands a transactional job to the flows engine (welcome and invitation emails). */
  enqueueEmail?: EmailEnqueuer;
}

export type EmailEnqueuer = (
  tx: import('@atrium/db').Tx,
  email: { template: 'welcome' | 'invitation'; to: string; tenantId: string; data: Record<string, unknown> },
) => Promise<void>;
