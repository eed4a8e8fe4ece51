import { hexToUuid, newUuid, toPublicId, uuidToHex } from '@atrium/contracts';
import { type Tx, withTenant, withUser } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { AtriumError, notFound } from '../shared/errors.ts';
import { atLeast, type IdentityDeps, type Role } from './identity.ts';
import { revokeForOrganization } from './refresh-tokens.repository.ts';
import { hashToken, randomSecret } from './secrets.ts';
import { findUser, insertMembership } from './users.repository.ts';

export interface Member {
  id: string;
  user: { id: string; email: string; name: string | null };
  role: Role;
  created_at: string;
}

interface MemberRow {
  id: string;
  user_id: string;
  email: string;
  name: string | null;
  role: Role;
  created_at: Date;
}

const toMember = (row: MemberRow): Member => ({
  id: toPublicId('membership', row.id),
  user: { id: toPublicId('user', row.user_id), email: row.email, name: row.name },
  role: row.role,
  created_at: row.created_at.toISOString(),
});

/** Makes the creator of an organization its owner, inside the creating transaction. */
export function ownerMembership(userId: string) {
  return (tx: Tx, tenantId: string) => insertMembership(tx, tenantId, newUuid(), userId, 'owner');
}

/** The organization in the path must be the one the caller acts in; any other is as unknown as a made-up id. */
export function assertOwnOrganization(ctx: TenantContext, organizationId: string) {
  if (organizationId !== ctx.tenantId) throw notFound('organization');
}

export async function listMembers(ctx: TenantContext): Promise<Member[]> {
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<MemberRow>(
      `select m.id, m.user_id, u.email, u.name, m.role, m.created_at from memberships m
       join users u on u.id = m.user_id where m.tenant_id = $1 order by m.created_at`,
      [ctx.tenantId],
    ),
  );
  return rows.map(toMember);
}

async function lockMember(tx: Tx, tenantId: string, membershipId: string) {
  const { rows } = await tx.query<{ user_id: string; role: Role }>(
    'select user_id, role from memberships where tenant_id = $1 and id = $2 for update',
    [tenantId, membershipId],
  );
  const member = rows[0];
  if (!member) throw notFound('member');
  return member;
}

async function assertAnotherOwner(tx: Tx, tenantId: string, membershipId: string) {
  const { rows } = await tx.query<{ n: number }>(
    "select count(*)::int as n from memberships where tenant_id = $1 and role = 'owner' and id <> $2",
    [tenantId, membershipId],
  );
  if ((rows[0]?.n ?? 0) === 0) throw new AtriumError('last_owner', 'make someone else owner first');
}

/** Only an owner can grant or take away the owner role; admins manage everyone else. */
function assertMayManage(callerRole: Role, targetRole: Role, newRole?: Role) {
  if ((targetRole === 'owner' || newRole === 'owner') && callerRole !== 'owner') {
    throw new AtriumError('forbidden', 'only an owner can change who is owner');
  }
}

export async function changeRole(ctx: TenantContext, callerRole: Role, membershipId: string, role: Role) {
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const member = await lockMember(tx, ctx.tenantId, membershipId);
    assertMayManage(callerRole, member.role, role);
    if (member.role === 'owner' && role !== 'owner') await assertAnotherOwner(tx, ctx.tenantId, membershipId);
    const { rows } = await tx.query<MemberRow>(
      `update memberships m set role = $3, updated_at = now() from users u
       where m.tenant_id = $1 and m.id = $2 and u.id = m.user_id
       returning m.id, m.user_id, u.email, u.name, m.role, m.created_at`,
      [ctx.tenantId, membershipId, role],
    );
    const updated = toMember(rows[0] as MemberRow);
    await recordAudit(tx, ctx, {
      action: 'member.role_changed',
      resourceType: 'membership',
      resourceId: updated.id,
      data: { from: member.role, to: role },
    });
    return updated;
  });
}

/** Removes a member and ends their sessions in this organization; their access tokens stop working at once. */
export async function removeMember(ctx: TenantContext, callerRole: Role, membershipId: string) {
  await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const member = await lockMember(tx, ctx.tenantId, membershipId);
    assertMayManage(callerRole, member.role);
    if (member.role === 'owner') await assertAnotherOwner(tx, ctx.tenantId, membershipId);
    await tx.query('delete from memberships where tenant_id = $1 and id = $2', [ctx.tenantId, membershipId]);
    await revokeForOrganization(tx, member.user_id, ctx.tenantId);
    await recordAudit(tx, ctx, {
      action: 'member.removed',
      resourceType: 'membership',
      resourceId: toPublicId('membership', membershipId),
      data: { user_id: toPublicId('user', member.user_id) },
    });
  });
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  expires_at: string;
  accepted_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

interface InvitationRow {
  id: string;
  email: string;
  role: Role;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const invitationColumns = 'id, email, role, expires_at, accepted_at, revoked_at, created_at';
const toInvitation = (row: InvitationRow): Invitation => ({
  id: toPublicId('invitation', row.id),
  email: row.email,
  role: row.role,
  expires_at: row.expires_at.toISOString(),
  accepted_at: row.accepted_at?.toISOString() ?? null,
  revoked_at: row.revoked_at?.toISOString() ?? null,
  created_at: row.created_at.toISOString(),
});

/** Invitation tokens look like `inv_<organization hex>_<secret>` and are stored hashed; the email carries them. */
export async function invite(
  deps: IdentityDeps,
  ctx: TenantContext,
  callerRole: Role,
  input: { email: string; role: Role },
  invitedBy: string | null,
) {
  if (!atLeast(callerRole, input.role)) {
    throw new AtriumError('forbidden', `you cannot invite someone with more rights (${input.role}) than your own`);
  }
  const token = `inv_${uuidToHex(ctx.tenantId)}_${randomSecret()}`;
  const email = input.email.trim().toLowerCase();
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const { rows } = await tx.query<InvitationRow>(
      `insert into invitations (tenant_id, id, email, role, token_hash, invited_by, expires_at)
       values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7)) returning ${invitationColumns}`,
      [ctx.tenantId, newUuid(), email, input.role, hashToken(token), invitedBy, deps.invitationTtlSeconds],
    );
    const invitation = toInvitation(rows[0] as InvitationRow);
    await deps.enqueueEmail?.(tx, {
      template: 'invitation',
      to: email,
      tenantId: ctx.tenantId,
      data: { token, role: input.role },
    });
    await recordAudit(tx, ctx, {
      action: 'invitation.created',
      resourceType: 'invitation',
      resourceId: invitation.id,
      data: { email, role: input.role },
    });
    return { ...invitation, token };
  });
}

export async function listInvitations(ctx: TenantContext): Promise<Invitation[]> {
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<InvitationRow>(`select ${invitationColumns} from invitations where tenant_id = $1 order by id desc`, [
      ctx.tenantId,
    ]),
  );
  return rows.map(toInvitation);
}

export async function revokeInvitation(ctx: TenantContext, invitationId: string) {
  await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const { rowCount } = await tx.query(
      'update invitations set revoked_at = coalesce(revoked_at, now()) where tenant_id = $1 and id = $2',
      [ctx.tenantId, invitationId],
    );
    if (rowCount === 0) throw notFound('invitation');
  });
}

/** The invited person, signed in with the invited email, joins the organization. */
export async function acceptInvitation(deps: IdentityDeps, userId: string, token: string) {
  const match = /^inv_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$/.exec(token);
  const tenantId = match?.[1] ? hexToUuid(match[1]) : null;
  if (!tenantId) throw notFound('invitation');
  return withUser(
    deps.pool,
    userId,
    async (tx) => {
      const { rows } = await tx.query<{ id: string; email: string; role: Role }>(
        `select id, email, role from invitations
         where tenant_id = $1 and token_hash = $2 and accepted_at is null and revoked_at is null
           and expires_at > now() for update`,
        [tenantId, hashToken(token)],
      );
      const invitation = rows[0];
      if (!invitation) throw notFound('invitation (it may have expired, been used or been revoked)');
      const user = await findUser(tx, userId);
      if (!user || user.email !== invitation.email) {
        throw new AtriumError('forbidden', 'this invitation is for another email address');
      }
      const existing = await tx.query('select 1 from memberships where tenant_id = $1 and user_id = $2', [
        tenantId,
        userId,
      ]);
      if (existing.rowCount === 0) await insertMembership(tx, tenantId, newUuid(), userId, invitation.role);
      await tx.query('update invitations set accepted_at = now() where tenant_id = $1 and id = $2', [
        tenantId,
        invitation.id,
      ]);
      const actor = { type: 'user' as const, id: toPublicId('user', userId) };
      await recordAudit(
        tx,
        { pool: deps.pool, tenantId, actor, requestId: null },
        {
          action: 'invitation.accepted',
          resourceType: 'invitation',
          resourceId: toPublicId('invitation', invitation.id),
        },
      );
      return { organization: { id: toPublicId('organization', tenantId) }, role: invitation.role };
    },
    tenantId,
  );
}
