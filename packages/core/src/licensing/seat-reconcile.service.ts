import { isUuid, toPublicId } from '@atrium/contracts';
import { type Pool, withoutTenant, withTenant } from '@atrium/db';
import { AtriumError } from '../shared/errors.ts';
import { findEndedSessions } from './journal.repository.ts';
import type { OpenLeases, Reconciliation, RedisSeatStore } from './seat-store.redis.ts';
import type { LicenseRef } from './seat-store.ts';

/** Which licenses to reconcile: all of them (Default), one organization's, or one license. Storage UUIDs. */
export interface ReconcileScope {
  tenantId?: string | null;
  licenseId?: string | null;
}

export interface LicenseReconciliation extends LicenseRef, Reconciliation {
  /** Sessions in Redis the journal has no entry of yet: left alone, and counted in `live`. */
  unjournaled: number;
}

export interface SeatReconcilerDeps {
  pool: Pool;
  store: RedisSeatStore;
  /** The same journal reader the store rebuilds a missing set with. */
  loadOpenLeases(license: LicenseRef): Promise<OpenLeases>;
}

/**
 * Makes Redis lease sets agree with the PostgreSQL lease journal (DESIGN.md §1, ADR 0100), for
 * `atrium licenses reconcile` after Redis lost its data or came back from an old snapshot:
 * - a lease the journal has open (acquired, never released nor expired) that Redis lacks is restored, with a
 *   fresh lifetime (heartbeats are not journaled);
 * - a lease in Redis whose release or expiry the journal has is dropped;
 * - a lease in Redis the journal never saw is kept. API processes journal through a batch writer (ADR 0103), so
 *   a lease acquired a moment ago is in Redis before it is in the journal; dropping it would take a seat away from
 *   a client that did nothing wrong. If its journal write was lost, its release or expiry is still journaled.
 */
export class SeatReconciler {
  private readonly deps: SeatReconcilerDeps;

  constructor(deps: SeatReconcilerDeps) {
    this.deps = deps;
  }

  /**
   * The licenses in scope, by organization. Listing organizations is the one cross-tenant read, through the
   * definer function the flow scheduler uses (it returns ids only); each organization's licenses are read under
   * its own tenant, with row-level security.
   */
  async licenses(scope: ReconcileScope = {}): Promise<LicenseRef[]> {
    const tenants = await withoutTenant(this.deps.pool, async (tx) => {
      const { rows } = await tx.query<{ id: string }>('select id from flow_tenants() as id order by id');
      return rows.map((row) => row.id);
    });
    const { tenantId, licenseId } = scope;
    if (tenantId && !tenants.includes(tenantId)) {
      throw new AtriumError('not_found', `no organization ${toPublicId('organization', tenantId)} exists`);
    }
    const found: LicenseRef[] = [];
    for (const tenant of tenantId ? [tenantId] : tenants) {
      const ids = await withTenant(this.deps.pool, tenant, async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          'select id from licenses where tenant_id = $1 and ($2::uuid is null or id = $2) order by id',
          [tenant, licenseId ?? null],
        );
        return rows.map((row) => row.id);
      });
      for (const id of ids) found.push({ tenantId: tenant, licenseId: id });
    }
    if (licenseId && found.length === 0) {
      const where = tenantId ? ` in organization ${toPublicId('organization', tenantId)}` : '';
      throw new AtriumError('not_found', `no license ${toPublicId('license', licenseId)} exists${where}`);
    }
    return found;
  }

  /**
   * Removes the keys of licenses that no longer exist, and returns their ids: a license deleted while Redis was
   * away, or acquired through another process's cached copy just after its deletion, leaves keys that never
   * expire. Redis is scanned before PostgreSQL is read, so a license created in between is listed and kept; only a
   * license whose row was gone after the scan counts as deleted (ids are never reused).
   */
  async dropDeleted(): Promise<string[]> {
    const inRedis = await this.deps.store.licenseIdsInRedis();
    for (const license of await this.licenses()) inRedis.delete(license.licenseId);
    const deleted = [...inRedis].filter(isUuid).sort();
    await this.deps.store.dropLeaseSets(deleted);
    return deleted;
  }

  /** Reconciles one license: reads Redis and the journal, then changes the set in one atomic script. */
  async reconcile(license: LicenseRef): Promise<LicenseReconciliation> {
    const inRedis = await this.deps.store.sessionIds(license);
    // A member that is not a UUID cannot be in the journal: it counts as unjournaled and is left alone.
    const members = inRedis.filter(isUuid);
    const open = await this.deps.loadOpenLeases(license);
    const ended = await withTenant(this.deps.pool, license.tenantId, (tx) =>
      findEndedSessions(tx, license.tenantId, license.licenseId, members),
    );
    const result = await this.deps.store.reconcile(license, open, ended);
    const known = new Set([...open.leases.map((lease) => lease.sessionId), ...ended]);
    const unjournaled = inRedis.filter((sessionId) => !known.has(sessionId)).length;
    return { ...license, ...result, unjournaled };
  }
}
