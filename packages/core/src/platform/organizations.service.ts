import { createHash } from 'node:crypto';
import { newUuid, type Organization } from '@atrium/contracts';
import { type Pool, type Tx, withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { Actor, TenantContext } from '../shared/context.ts';
import { AtriumError, fromConstraintViolation, notFound } from '../shared/errors.ts';
import { idempotent, type Stored } from '../shared/idempotency.ts';
import { decodeCursor, type Page, type PageRequest, toPage } from '../shared/pagination.ts';
import * as repository from './organizations.repository.ts';

const constraintErrors = {
  organizations_slug_key: new AtriumError('slug_taken', 'another organization already uses this slug'),
};

export interface CreateOrganizationInput {
  name: string;
  slug?: string | undefined;
}

export interface CreatorContext {
  pool: Pool;
  actor: Actor;
  requestId: string | null;
}

/**
 * Creates an organization, which is a new tenant: everything happens in a transaction scoped to the new id.
 *
 * With an Idempotency-Key the new id is derived from the creator and the key, so a retry lands on the same
 * tenant, where the key's record says what the first attempt answered.
 */
export async function createOrganization<Extra = undefined>(
  ctx: CreatorContext,
  input: CreateOrganizationInput,
  idempotencyKey?: string,
  /** More work in the same transaction once the organization exists (its owner's membership, a session). */
  within?: (tx: Tx, tenantId: string) => Promise<Extra>,
): Promise<Stored<Organization> & { extra: Extra | undefined }> {
  const id = idempotencyKey ? derivedTenantId(ctx.actor, idempotencyKey) : newUuid();
  const slug = input.slug ?? slugFrom(input.name, id);
  const tenant: TenantContext = { ...ctx, tenantId: id };
  const request = idempotencyKey
    ? { key: idempotencyKey, operation: 'organizations.create', payload: input }
    : undefined;
  let extra: Extra | undefined;
  try {
    const stored = await withTenant(ctx.pool, id, (tx) =>
      idempotent(tx, id, request, async () => {
        const row = await repository.insertOrganization(tx, { id, slug, name: input.name });
        if (!row) throw new Error('insert returned no row');
        const organization = repository.toOrganization(row);
        await recordAudit(tx, tenant, {
          action: 'organization.created',
          resourceType: 'organization',
          resourceId: organization.id,
          data: { slug, name: input.name },
        });
        extra = await within?.(tx, id);
        return { status: 201, body: organization };
      }),
    );
    return { ...stored, extra };
  } catch (err) {
    throw fromConstraintViolation(err, constraintErrors);
  }
}

export async function getOrganization(ctx: TenantContext, id: string): Promise<Organization> {
  const row = await withTenant(ctx.pool, ctx.tenantId, (tx) => repository.findOrganization(tx, id));
  if (!row) throw notFound('organization');
  return repository.toOrganization(row);
}

export async function listOrganizations(ctx: TenantContext, page: PageRequest): Promise<Page<Organization>> {
  const after = decodeCursor(page.cursor);
  const rows = await withTenant(ctx.pool, ctx.tenantId, (tx) => repository.listOrganizations(tx, after, page.limit));
  return toPage(rows, page.limit, repository.toOrganization);
}

export async function updateOrganization(
  ctx: TenantContext,
  id: string,
  patch: { name?: string | undefined; slug?: string | undefined },
): Promise<Organization> {
  try {
    return await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      const row = await repository.updateOrganization(tx, id, patch);
      if (!row) throw notFound('organization');
      const organization = repository.toOrganization(row);
      await recordAudit(tx, ctx, {
        action: 'organization.updated',
        resourceType: 'organization',
        resourceId: organization.id,
        data: { changes: patch },
      });
      return organization;
    });
  } catch (err) {
    throw fromConstraintViolation(err, constraintErrors);
  }
}

/** Deletes the organization and, by cascade, everything it owns, audit log included (GDPR erasure). */
export async function deleteOrganization(ctx: TenantContext, id: string): Promise<void> {
  const deleted = await withTenant(ctx.pool, ctx.tenantId, (tx) => repository.deleteOrganization(tx, id));
  if (!deleted) throw notFound('organization');
}

function derivedTenantId(actor: Actor, key: string): string {
  const hex = createHash('sha256')
    .update(`organization:${actor.type}:${actor.id ?? ''}:${key}`)
    .digest('hex');
  // Shaped as an RFC 9562 version 8 (custom) UUID with the RFC variant bits.
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A readable default slug: the name as a DNS label, made unique with part of the id. */
function slugFrom(name: string, id: string): string {
  const base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const suffix = id.replaceAll('-', '').slice(-8);
  return base.length >= 3 ? `${base}-${suffix}` : `org-${suffix}`;
}
