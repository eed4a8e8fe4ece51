import { hexToUuid, newUuid, toPublicId, uuidToHex } from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { AtriumError, notFound } from '../shared/errors.ts';
import { atLeast, type Role } from './identity.ts';
import { hashToken, randomSecret } from './secrets.ts';

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

interface ApiKeyRow {
  id: string;
  name: string;
  display_prefix: string;
  role: Role;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const columns = 'id, name, display_prefix, role, expires_at, last_used_at, revoked_at, created_at';
const iso = (date: Date | null) => date?.toISOString() ?? null;

function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: toPublicId('apiKey', row.id),
    name: row.name,
    prefix: row.display_prefix,
    role: row.role,
    expires_at: iso(row.expires_at),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
    created_at: row.created_at.toISOString(),
  };
}

/**
 * Keys look like `atr_<organization hex>_<secret>`: the organization part lets a request find the right tenant
 * without any cross-tenant lookup; the secret (256 bits) is stored only as its SHA-256.
 */
export async function createApiKey(
  ctx: TenantContext,
  callerRole: Role,
  input: { name: string; role: Role; expires_at?: string | undefined },
  createdBy: string | null,
) {
  if (!atLeast(callerRole, input.role)) {
    throw new AtriumError('forbidden', `you cannot create a key with more rights (${input.role}) than your own`);
  }
  const key = `atr_${uuidToHex(ctx.tenantId)}_${randomSecret()}`;
  return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const { rows } = await tx.query<ApiKeyRow>(
      `insert into api_keys (tenant_id, id, name, display_prefix, key_hash, role, created_by, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${columns}`,
      [
        ctx.tenantId,
        newUuid(),
        input.name,
        key.slice(0, 12),
        hashToken(key),
        input.role,
        createdBy,
        input.expires_at ?? null,
      ],
    );
    const apiKey = toApiKey(rows[0] as ApiKeyRow);
    await recordAudit(tx, ctx, {
      action: 'api_key.created',
      resourceType: 'api_key',
      resourceId: apiKey.id,
      data: { name: input.name, role: input.role },
    });
    return { ...apiKey, key };
  });
}

export async function listApiKeys(ctx: TenantContext): Promise<ApiKey[]> {
  const { rows } = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
    tx.query<ApiKeyRow>(`select ${columns} from api_keys where tenant_id = $1 order by id desc`, [ctx.tenantId]),
  );
  return rows.map(toApiKey);
}

export async function revokeApiKey(ctx: TenantContext, id: string) {
  await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
    const { rowCount } = await tx.query(
      'update api_keys set revoked_at = coalesce(revoked_at, now()) where tenant_id = $1 and id = $2',
      [ctx.tenantId, id],
    );
    if (rowCount === 0) throw notFound('API key');
    await recordAudit(tx, ctx, {
      action: 'api_key.revoked',
      resourceType: 'api_key',
      resourceId: toPublicId('apiKey', id),
    });
  });
}

export interface ResolvedApiKey {
  tenantId: string;
  keyId: string;
  role: Role;
  expiresAt: number | null;
}

/** Finds the key a request presents; null when it is unknown, revoked or expired. */
export async function resolveApiKey(pool: import('@atrium/db').Pool, key: string): Promise<ResolvedApiKey | null> {
  const match = /^atr_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$/.exec(key);
  const tenantId = match?.[1] ? hexToUuid(match[1]) : null;
  if (!tenantId) return null;
  const { rows } = await withTenant(pool, tenantId, (tx) =>
    tx.query<{ id: string; role: Role; expires_at: Date | null }>(
      `select id, role, expires_at from api_keys
       where tenant_id = $1 and key_hash = $2 and revoked_at is null and (expires_at is null or expires_at > now())`,
      [tenantId, hashToken(key)],
    ),
  );
  const row = rows[0];
  return row ? { tenantId, keyId: row.id, role: row.role, expiresAt: row.expires_at?.getTime() ?? null } : null;
}

export async function touchApiKey(pool: import('@atrium/db').Pool, tenantId: string, keyId: string) {
  await withTenant(pool, tenantId, (tx) =>
    tx.query('update api_keys set last_used_at = now() where tenant_id = $1 and id = $2', [tenantId, keyId]),
  );
}
