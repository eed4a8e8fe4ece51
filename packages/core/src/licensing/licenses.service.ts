import {
  type CreatedLicense,
  type CreateLicense,
  type FingerprintView,
  type License,
  newUuid,
  toPublicId,
  type UpdateLicense,
} from '@atrium/contracts';
import { withTenant } from '@atrium/db';
import { recordAudit } from '../shared/audit.ts';
import type { TenantContext } from '../shared/context.ts';
import { notFound } from '../shared/errors.ts';
import { decodeCursor, type Page, type PageRequest, toPage } from '../shared/pagination.ts';
import { generateLicenseKey, hashLicenseKey, licenseKeyPrefix } from './keys.ts';
import type { LicenseCache } from './license-cache.ts';
import * as repository from './licenses.repository.ts';
import { resolvePolicy } from './policy.ts';
import type { SeatStore } from './seat-store.ts';

export interface LicenseAdminDeps {
  cache: LicenseCache;
  store: SeatStore;
}

/** The administrators' half of licensing: licenses and their machines. Every change is audited in its transaction. */
export class LicenseAdmin {
  private readonly deps: LicenseAdminDeps;

  constructor(deps: LicenseAdminDeps) {
    this.deps = deps;
  }

  async create(ctx: TenantContext, input: CreateLicense): Promise<CreatedLicense> {
    const key = generateLicenseKey();
    const fields = {
      name: input.name ?? null,
      product: input.product ?? null,
      max_seats: input.max_seats,
      expires_at: input.expires_at ?? null,
      suspended: input.suspended ?? false,
      policy: resolvePolicy(input.policy),
    };
    return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      const row = await repository.insertLicense(tx, ctx.tenantId, {
        ...fields,
        id: newUuid(),
        keyHash: hashLicenseKey(key),
        keyPrefix: licenseKeyPrefix(key),
      });
      if (!row) throw new Error('insert returned no row');
      const license = repository.toLicense(row);
      await recordAudit(tx, ctx, {
        action: 'license.created',
        resourceType: 'license',
        resourceId: license.id,
        data: { max_seats: fields.max_seats, policy: fields.policy, expires_at: fields.expires_at },
      });
      return { ...license, license_key: key };
    });
  }

  async get(ctx: TenantContext, id: string): Promise<License> {
    const row = await withTenant(ctx.pool, ctx.tenantId, (tx) => repository.findLicense(tx, ctx.tenantId, id));
    if (!row) throw notFound('license');
    return repository.toLicense(row);
  }

  async list(ctx: TenantContext, page: PageRequest): Promise<Page<License>> {
    const after = decodeCursor(page.cursor);
    const rows = await withTenant(ctx.pool, ctx.tenantId, (tx) =>
      repository.listLicenses(tx, ctx.tenantId, after, page.limit),
    );
    return toPage(rows, page.limit, repository.toLicense);
  }

  async update(ctx: TenantContext, id: string, patch: UpdateLicense): Promise<License> {
    const license = await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      const current = await repository.findLicense(tx, ctx.tenantId, id, { lock: true });
      if (!current) throw notFound('license');
      const row = await repository.updateLicense(tx, ctx.tenantId, id, {
        name: patch.name !== undefined ? patch.name : current.name,
        product: patch.product !== undefined ? patch.product : current.product,
        max_seats: patch.max_seats ?? current.max_seats,
        expires_at: patch.expires_at !== undefined ? patch.expires_at : (current.expires_at?.toISOString() ?? null),
        suspended: patch.suspended ?? current.suspended,
        policy: resolvePolicy(patch.policy, repository.policyOf(current)),
      });
      if (!row) throw notFound('license');
      const updated = repository.toLicense(row);
      const suspendedNow = patch.suspended !== undefined && patch.suspended !== current.suspended;
      await recordAudit(tx, ctx, {
        action: suspendedNow ? (patch.suspended ? 'license.suspended' : 'license.reinstated') : 'license.updated',
        resourceType: 'license',
        resourceId: updated.id,
        data: { changes: patch },
      });
      return updated;
    });
    this.deps.cache.invalidate(id);
    return license;
  }

  /**
   * Deletes the license (its leases, journal and fingerprints go with it) and then its seat store state. The
   * deletion is committed first: if the store cannot be told (Redis away), the license is still gone, its keys can
   * no longer be reached, and the error is returned for the caller to log rather than thrown, so that the client
   * is not told to retry a deletion that happened. `atrium licenses reconcile` removes such keys.
   */
  async delete(ctx: TenantContext, id: string): Promise<{ storeNotCleared?: Error }> {
    await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      if (!(await repository.deleteLicense(tx, ctx.tenantId, id))) throw notFound('license');
      await recordAudit(tx, ctx, {
        action: 'license.deleted',
        resourceType: 'license',
        resourceId: toPublicId('license', id),
      });
    });
    this.deps.cache.invalidate(id);
    try {
      await this.deps.store.forget({ tenantId: ctx.tenantId, licenseId: id });
      return {};
    } catch (err) {
      return { storeNotCleared: err as Error };
    }
  }

  async listFingerprints(ctx: TenantContext, licenseId: string): Promise<{ data: FingerprintView[] }> {
    return withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      if (!(await repository.findLicense(tx, ctx.tenantId, licenseId))) throw notFound('license');
      const rows = await repository.listFingerprints(tx, ctx.tenantId, licenseId);
      return { data: rows.map(repository.toFingerprint) };
    });
  }

  /** Frees a node-locked machine slot (a lost or reinstalled device); its live lease, if any, is released too. */
  async deactivateFingerprint(ctx: TenantContext, licenseId: string, fingerprintId: string): Promise<void> {
    await withTenant(ctx.pool, ctx.tenantId, async (tx) => {
      const fingerprint = await repository.deleteFingerprint(tx, ctx.tenantId, licenseId, fingerprintId);
      if (fingerprint === undefined) throw notFound('fingerprint');
      await recordAudit(tx, ctx, {
        action: 'license.fingerprint_deactivated',
        resourceType: 'license',
        resourceId: toPublicId('license', licenseId),
        data: { fingerprint_id: toPublicId('fingerprint', fingerprintId), fingerprint },
      });
    });
    this.deps.cache.invalidate(licenseId);
  }
}
