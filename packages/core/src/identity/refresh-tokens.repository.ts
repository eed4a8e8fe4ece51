import type { Tx } from '@atrium/db';

export interface RefreshTokenRow {
  id: string;
  family_id: string;
  user_id: string;
  active_organization_id: string | null;
  amr: string[];
  used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date;
}

export async function insertRefreshToken(
  tx: Tx,
  row: {
    id: string;
    familyId: string;
    userId: string;
    organizationId: string | null;
    tokenHash: string;
    amr: string[];
    ttlSeconds: number;
  },
) {
  await tx.query(
    `insert into refresh_tokens (id, family_id, user_id, active_organization_id, token_hash, amr, expires_at)
     values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
    [row.id, row.familyId, row.userId, row.organizationId, row.tokenHash, row.amr, row.ttlSeconds],
  );
}

/** Takes a refresh token for rotation: it works once. Locks the row so two concurrent refreshes cannot both win. */
export async function claimRefreshToken(tx: Tx, tokenHash: string) {
  const { rows } = await tx.query<RefreshTokenRow>(
    `select id, family_id, user_id, active_organization_id, amr, used_at, revoked_at, expires_at
     from refresh_tokens where token_hash = $1 for update`,
    [tokenHash],
  );
  return rows[0];
}

export async function markUsed(tx: Tx, id: string) {
  await tx.query('update refresh_tokens set used_at = now() where id = $1', [id]);
}

export async function revokeFamily(tx: Tx, familyId: string) {
  await tx.query('update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null', [
    familyId,
  ]);
}

/** Ends every session of a person in one organization (removed from it). */
export async function revokeForOrganization(tx: Tx, userId: string, organizationId: string) {
  await tx.query(
    `update refresh_tokens set revoked_at = now()
     where user_id = $1 and active_organization_id = $2 and revoked_at is null`,
    [userId, organizationId],
  );
}
