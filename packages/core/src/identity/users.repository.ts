import type { Tx } from '@atrium/db';

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string | null;
  email_verified: boolean;
  totp_secret_encrypted: string | null;
  totp_enabled_at: Date | null;
}

const columns = 'id, email, name, password_hash, email_verified, totp_secret_encrypted, totp_enabled_at';

export async function insertUser(
  tx: Tx,
  user: { id: string; email: string; name: string | null; passwordHash: string | null; emailVerified: boolean },
) {
  const { rows } = await tx.query<UserRow>(
    `insert into users (id, email, name, password_hash, email_verified) values ($1, $2, $3, $4, $5)
     returning ${columns}`,
    [user.id, user.email, user.name, user.passwordHash, user.emailVerified],
  );
  return rows[0] as UserRow;
}

export async function findUserByEmail(tx: Tx, email: string) {
  const { rows } = await tx.query<UserRow>(`select ${columns} from users where email = $1`, [email]);
  return rows[0];
}

export async function findUser(tx: Tx, id: string) {
  const { rows } = await tx.query<UserRow>(`select ${columns} from users where id = $1`, [id]);
  return rows[0];
}

export async function setTotp(tx: Tx, userId: string, sealedSecret: string | null, enabled: boolean) {
  await tx.query(
    `update users set totp_secret_encrypted = $2, totp_enabled_at = case when $3 then now() end, updated_at = now()
     where id = $1`,
    [userId, sealedSecret, enabled],
  );
}

export async function replaceRecoveryCodes(tx: Tx, userId: string, codeHashes: string[]) {
  await tx.query('delete from user_recovery_codes where user_id = $1', [userId]);
  await tx.query('insert into user_recovery_codes (user_id, code_hash) select $1, unnest($2::text[])', [
    userId,
    codeHashes,
  ]);
}

/** Marks a recovery code used; true when it existed and was unused. */
export async function consumeRecoveryCode(tx: Tx, userId: string, codeHash: string) {
  const { rowCount } = await tx.query(
    'update user_recovery_codes set used_at = now() where user_id = $1 and code_hash = $2 and used_at is null',
    [userId, codeHash],
  );
  return rowCount === 1;
}

export interface MembershipRow {
  tenant_id: string;
  id: string;
  role: 'owner' | 'admin' | 'member' | 'readonly';
  slug: string;
  name: string;
}

/** The person's memberships across organizations; needs app.user_id set (policy own_memberships). */
export async function membershipsOf(tx: Tx, userId: string) {
  const { rows } = await tx.query<MembershipRow>(
    `select m.tenant_id, m.id, m.role, o.slug, o.name from memberships m
     join organizations o on o.id = m.tenant_id where m.user_id = $1 order by m.created_at`,
    [userId],
  );
  return rows;
}

export async function insertMembership(tx: Tx, tenantId: string, id: string, userId: string, role: string) {
  await tx.query('insert into memberships (tenant_id, id, user_id, role) values ($1, $2, $3, $4)', [
    tenantId,
    id,
    userId,
    role,
  ]);
}

/** The person an external issuer's subject is linked to, if any. */
export async function findLinkedUser(tx: Tx, issuer: string, subject: string) {
  const { rows } = await tx.query<{ user_id: string }>(
    'select user_id from oidc_identities where issuer = $1 and subject = $2',
    [issuer, subject],
  );
  return rows[0]?.user_id ?? null;
}

export async function linkIdentity(tx: Tx, issuer: string, subject: string, userId: string) {
  await tx.query('insert into oidc_identities (issuer, subject, user_id) values ($1, $2, $3)', [
    issuer,
    subject,
    userId,
  ]);
}
