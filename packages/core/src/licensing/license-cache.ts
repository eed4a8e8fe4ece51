import type { LicensePolicy } from '@atrium/contracts';
import { type Pool, withTenant } from '@atrium/db';
import { hashLicenseKey } from './keys.ts';
import { findKeyOwner, findLicense, type LicenseRow, policyOf } from './licenses.repository.ts';
import { leaseLifetimeMs } from './policy.ts';
import type { LicenseRef } from './seat-store.ts';

export interface CachedLicense {
  tenantId: string;
  id: string;
  maxSeats: number;
  expiresAtMs: number | null;
  suspended: boolean;
  policy: LicensePolicy;
  lifetimeMs: number;
  /** What the seat store is called with (one object per cached license, not one per request). */
  ref: LicenseRef;
}

interface Entry<T> {
  value: T;
  untilMs: number;
}

export function toCached(row: LicenseRow): CachedLicense {
  const policy = policyOf(row);
  return {
    tenantId: row.tenant_id,
    id: row.id,
    maxSeats: row.max_seats,
    expiresAtMs: row.expires_at?.getTime() ?? null,
    suspended: row.suspended,
    policy,
    lifetimeMs: leaseLifetimeMs(policy),
    ref: { tenantId: row.tenant_id, licenseId: row.id },
  };
}

/**
 * Licenses as the hot paths need them, cached per process (DESIGN.md §6: acquire must not pay a tenant
 * transaction for the license). A change made through this process invalidates its entry at once; other
 * processes see it within `ttlMs` (ADR 0100). Key → owner never changes, so it is kept until evicted.
 */
export class LicenseCache {
  private readonly pool: Pool;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly owners = new Map<string, { tenantId: string; licenseId: string }>();
  private readonly licenses = new Map<string, Entry<CachedLicense | null>>();
  private readonly fingerprints = new Map<string, Entry<true>>();
  /** Loads in flight: a burst of requests for one uncached license costs one query, not one per request. */
  private readonly loading = new Map<string, Promise<unknown>>();

  constructor(pool: Pool, options: { ttlMs?: number; maxEntries?: number } = {}) {
    this.pool = pool;
    this.ttlMs = options.ttlMs ?? 5000;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /**
   * The license a key opens. Known keys are found by the key itself (it is in this process's memory for the
   * request anyway), so the hot path hashes nothing; only a key not seen yet is hashed and looked up.
   */
  async byKey(key: string): Promise<CachedLicense | null> {
    const known = this.peekKey(key);
    if (known !== undefined) return known;
    let owner = this.owners.get(key);
    if (!owner) {
      const hash = hashLicenseKey(key);
      const row = await this.once(`key/${hash.toString('hex')}`, () =>
        findKeyOwner((text, values) => this.pool.query(text, values), hash),
      );
      if (!row) return null;
      owner = { tenantId: row.tenant_id, licenseId: row.license_id };
      this.bound(this.owners);
      this.owners.set(key, owner);
    }
    return this.byId(owner.tenantId, owner.licenseId);
  }

  /**
   * What `byKey` would answer, when it can answer from memory; undefined when it would have to ask the database.
   * The hot paths (auth, heartbeat) try this first and await nothing when it answers.
   */
  peekKey(key: string): CachedLicense | null | undefined {
    const owner = this.owners.get(key);
    return owner && this.peek(owner.tenantId, owner.licenseId);
  }

  /** What `byId` would answer, when it can answer from memory; undefined when it would have to ask the database. */
  peek(tenantId: string, licenseId: string): CachedLicense | null | undefined {
    const cached = this.licenses.get(licenseId);
    if (!cached || cached.untilMs <= Date.now()) return undefined;
    return cached.value?.tenantId === tenantId ? cached.value : null;
  }

  async byId(tenantId: string, licenseId: string): Promise<CachedLicense | null> {
    const known = this.peek(tenantId, licenseId);
    if (known !== undefined) return known;
    const now = Date.now();
    const row = await this.once(`license/${tenantId}/${licenseId}`, () =>
      withTenant(this.pool, tenantId, (tx) => findLicense(tx, tenantId, licenseId)),
    );
    const value = row ? toCached(row) : null;
    this.bound(this.licenses);
    // Only a found license is cached: a miss with the wrong tenant must not hide the license from its owner.
    if (value) this.licenses.set(licenseId, { value, untilMs: now + this.ttlMs });
    return value;
  }

  invalidate(licenseId: string) {
    this.licenses.delete(licenseId);
    for (const key of this.fingerprints.keys()) if (key.startsWith(`${licenseId}/`)) this.fingerprints.delete(key);
  }

  /** Node-locked licenses: remembers that a fingerprint is registered, so repeat acquires skip the database. */
  knowsFingerprint(licenseId: string, fingerprint: string): boolean {
    const entry = this.fingerprints.get(`${licenseId}/${fingerprint}`);
    return entry !== undefined && entry.untilMs > Date.now();
  }

  rememberFingerprint(licenseId: string, fingerprint: string) {
    this.bound(this.fingerprints);
    this.fingerprints.set(`${licenseId}/${fingerprint}`, { value: true, untilMs: Date.now() + this.ttlMs });
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.loading.get(key);
    if (pending) return pending as Promise<T>;
    const promise = load().finally(() => this.loading.delete(key));
    this.loading.set(key, promise);
    return promise;
  }

  private bound(map: Map<string, unknown>) {
    if (map.size < this.maxEntries) return;
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}
