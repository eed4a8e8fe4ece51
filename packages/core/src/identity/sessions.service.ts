import { fromPublicId, newUuid, toPublicId } from '@atrium/contracts';
import { type Tx, withoutTenant, withTenant, withUser } from '@atrium/db';
import { createOrganization } from '../platform/organizations.service.ts';
import { AtriumError } from '../shared/errors.ts';
import type { IdentityDeps } from './identity.ts';
import { verifySecondFactor } from './mfa.service.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import * as refreshTokens from './refresh-tokens.repository.ts';
import { hashToken, randomSecret } from './secrets.ts';
import * as users from './users.repository.ts';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface RegisterInput {
  email: string;
  password: string;
  name?: string | undefined;
  organization?: { name: string; slug?: string | undefined } | undefined;
}

const badCredentials = () => new AtriumError('unauthenticated', 'the email or password is wrong');

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Issues a session: a refresh token (a new family unless continuing one) and an access token. */
export async function issueTokens(
  deps: IdentityDeps,
  tx: Tx,
  session: { userId: string; organizationId: string | null; amr: string[]; familyId?: string },
): Promise<TokenPair> {
  const familyId = session.familyId ?? newUuid();
  const refreshToken = `rt_${randomSecret()}`;
  await refreshTokens.insertRefreshToken(tx, {
    id: newUuid(),
    familyId,
    userId: session.userId,
    organizationId: session.organizationId,
    tokenHash: hashToken(refreshToken),
    amr: session.amr,
    ttlSeconds: deps.refreshTokenTtlSeconds,
  });
  const access = await deps.tokens.sign({
    sub: toPublicId('user', session.userId),
    org: session.organizationId ? toPublicId('organization', session.organizationId) : null,
    sid: familyId,
    amr: session.amr,
  });
  return {
    access_token: access.token,
    refresh_token: refreshToken,
    token_type: 'Bearer',
    expires_in: access.expiresIn,
  };
}

export interface NewAccount {
  email: string;
  name: string | null;
  passwordHash: string | null;
  emailVerified: boolean;
  organization?: { name: string; slug?: string | undefined } | undefined;
  /** How the person authenticated (pwd, oidc), carried into the first session. */
  amr: string[];
  requestId: string | null;
  /** More work in the same transaction once the user exists (linking an external identity). */
  within?: (tx: Tx, userId: string) => Promise<void>;
}

/**
 * A new person with their organization (a fresh tenant) and them as owner, a welcome email queued, and a
 * session — one transaction, so a failure leaves no half-made account. Used by sign-up and by OIDC sign-in.
 */
export async function createAccount(deps: IdentityDeps, account: NewAccount) {
  const userId = newUuid();
  const actor = { type: 'user' as const, id: toPublicId('user', userId) };
  const organizationName =
    account.organization?.name ?? `${account.name ?? account.email.split('@')[0]}'s organization`;
  try {
    const organization = await createOrganization(
      { pool: deps.pool, actor, requestId: account.requestId },
      { name: organizationName, slug: account.organization?.slug },
      undefined,
      async (tx, tenantId) => {
        const { email, name, passwordHash, emailVerified } = account;
        await users.insertUser(tx, { id: userId, email, name, passwordHash, emailVerified });
        await account.within?.(tx, userId);
        await users.insertMembership(tx, tenantId, newUuid(), userId, 'owner');
        await deps.enqueueEmail?.(tx, { template: 'welcome', to: email, tenantId, data: { name } });
        return issueTokens(deps, tx, { userId, organizationId: tenantId, amr: account.amr });
      },
    );
    return {
      user: { id: toPublicId('user', userId), email: account.email },
      organization: { id: organization.body.id, slug: organization.body.slug },
      tokens: organization.extra as TokenPair,
    };
  } catch (err) {
    if ((err as { constraint?: string }).constraint === 'users_email_key') {
      throw new AtriumError('email_taken', 'an account with this email already exists; sign in instead');
    }
    throw err;
  }
}

export async function register(deps: IdentityDeps, input: RegisterInput, requestId: string | null) {
  const { user, organization, tokens } = await createAccount(deps, {
    email: normalizeEmail(input.email),
    name: input.name ?? null,
    passwordHash: await hashPassword(input.password),
    emailVerified: false,
    organization: input.organization,
    amr: ['pwd'],
    requestId,
  });
  return { user, organization, ...tokens };
}

/** A session for a known person, acting in their first organization (if any). */
export function startSession(deps: IdentityDeps, userId: string, amr: string[]): Promise<TokenPair> {
  return withUser(deps.pool, userId, async (tx) => {
    const [first] = await users.membershipsOf(tx, userId);
    return issueTokens(deps, tx, { userId, organizationId: first?.tenant_id ?? null, amr });
  });
}

export async function login(deps: IdentityDeps, input: { email: string; password: string; totp?: string | undefined }) {
  const email = normalizeEmail(input.email);
  const user = await withoutTenant(deps.pool, (tx) => users.findUserByEmail(tx, email));
  if (!(await verifyPassword(user?.password_hash ?? null, input.password)) || !user) throw badCredentials();
  const amr = ['pwd'];
  if (user.totp_enabled_at) {
    if (!input.totp) throw new AtriumError('mfa_required', 'send the current code from your authenticator app as totp');
    await verifySecondFactor(deps, user, input.totp);
    amr.push('otp');
  }
  return startSession(deps, user.id, amr);
}

/**
 * Rotation with reuse detection: a refresh token works once. Presenting one that was already used means it
 * was copied, so the whole family (every token descended from the same sign-in) is revoked.
 */
export async function refresh(deps: IdentityDeps, refreshToken: string): Promise<TokenPair> {
  const outcome = await withoutTenant(deps.pool, async (tx) => {
    const row = await refreshTokens.claimRefreshToken(tx, hashToken(refreshToken));
    if (!row || row.revoked_at || row.expires_at.getTime() <= Date.now()) return 'invalid' as const;
    if (row.used_at) {
      await refreshTokens.revokeFamily(tx, row.family_id);
      return 'reused' as const;
    }
    await refreshTokens.markUsed(tx, row.id);
    return issueTokens(deps, tx, {
      userId: row.user_id,
      organizationId: row.active_organization_id,
      amr: row.amr,
      familyId: row.family_id,
    });
  });
  if (outcome === 'reused') {
    throw new AtriumError('unauthenticated', 'this refresh token was already used; every session from it is revoked');
  }
  if (outcome === 'invalid') throw new AtriumError('unauthenticated', 'the refresh token is not valid');
  return outcome;
}

/** Ends the session the access token belongs to (its refresh family); the access token stops working at once. */
export async function logout(deps: IdentityDeps, sessionId: string) {
  await withoutTenant(deps.pool, (tx) => refreshTokens.revokeFamily(tx, sessionId));
}

export async function me(deps: IdentityDeps, userId: string) {
  return withUser(deps.pool, userId, async (tx) => {
    const user = await users.findUser(tx, userId);
    if (!user) throw new AtriumError('unauthenticated', 'this account no longer exists');
    const memberships = await users.membershipsOf(tx, userId);
    return {
      user: {
        id: toPublicId('user', user.id),
        email: user.email,
        name: user.name,
        email_verified: user.email_verified,
        mfa_enabled: user.totp_enabled_at !== null,
      },
      memberships: memberships.map((m) => ({
        id: toPublicId('membership', m.id),
        organization: { id: toPublicId('organization', m.tenant_id), slug: m.slug, name: m.name },
        role: m.role,
      })),
    };
  });
}

export interface ResolvedUser {
  userId: string;
  tenantId: string | null;
  role: 'owner' | 'admin' | 'member' | 'readonly' | null;
}

/**
 * Who a valid access token acts as, checked against the database on every request so that logout and removal
 * from an organization take effect at once: one query in the tenant's transaction.
 * `requestedTenant` is the X-Tenant-ID header; a tenant the person is not a member of is refused.
 */
export async function resolveUser(
  deps: IdentityDeps,
  claims: { sub: string; org: string | null; sid: string },
  requestedTenant: string | undefined,
): Promise<ResolvedUser> {
  const userId = fromPublicId('user', claims.sub);
  if (!userId) throw new AtriumError('unauthenticated', 'the access token names no user');
  const tenantPublicId = requestedTenant ?? claims.org;
  const tenantId = tenantPublicId ? fromPublicId('organization', tenantPublicId) : null;
  if (tenantPublicId && !tenantId) throw new AtriumError('forbidden', 'X-Tenant-ID must be an organization id');
  const sessionQuery = `select exists (select 1 from refresh_tokens where family_id = $1 and revoked_at is not null) as revoked`;
  if (!tenantId) {
    const { rows } = await withoutTenant(deps.pool, (tx) => tx.query<{ revoked: boolean }>(sessionQuery, [claims.sid]));
    if (rows[0]?.revoked) throw new AtriumError('unauthenticated', 'this session has ended; sign in again');
    return { userId, tenantId: null, role: null };
  }
  const { rows } = await withTenant(deps.pool, tenantId, (tx) =>
    tx.query<{ role: ResolvedUser['role']; revoked: boolean }>(
      `select (select role from memberships where tenant_id = $2 and user_id = $3) as role,
              exists (select 1 from refresh_tokens where family_id = $1 and revoked_at is not null) as revoked`,
      [claims.sid, tenantId, userId],
    ),
  );
  const row = rows[0];
  if (row?.revoked) throw new AtriumError('unauthenticated', 'this session has ended; sign in again');
  if (!row?.role) {
    if (requestedTenant) throw new AtriumError('forbidden', 'you are not a member of the organization in X-Tenant-ID');
    throw new AtriumError('unauthenticated', 'you are no longer a member of this organization; sign in again');
  }
  return { userId, tenantId, role: row.role };
}
