import {
  type AcquireResponse,
  type HeartbeatResponse,
  type LicenseStatus,
  newUuid,
  toPublicId,
} from '@atrium/contracts';
import { type Pool, withTenant } from '@atrium/db';
import type { QueuedAudit } from '../shared/audit.ts';
import type { BatchWriter } from '../shared/batch-writer.ts';
import type { Actor } from '../shared/context.ts';
import { AtriumError } from '../shared/errors.ts';
import type { JournalEntry } from './journal.repository.ts';
import { fromSessionHandle, toSessionHandle } from './keys.ts';
import type { CachedLicense, LicenseCache } from './license-cache.ts';
import * as repository from './licenses.repository.ts';
import type { Lease, SeatStore } from './seat-store.ts';
import type { TokenIssuer } from './tokens.ts';

/** Who calls a machine route: a member of the organization, or a license key (bound to its one license). */
export interface LicenseCaller {
  tenantId: string;
  actor: Actor;
  requestId: string | null;
  /** Set when the caller authenticated with a license key: only that license is visible to it. */
  licenseId: string | null;
}

/** Metrics hooks, implemented by the server with the catalog's metrics (core imports no metrics library). */
export interface LicensingObserver {
  operation(operation: 'acquire' | 'heartbeat' | 'release' | 'status', result: string): void;
  /** How long a call to the seat store took: the stores report it themselves, once per batch (StoreTiming). */
  storeDuration(store: string, operation: string, seconds: number): void;
  expired(store: string, count: number): void;
  seats(tenantId: string, licenseId: string, used: number, max: number): void;
}

export interface LeaseServiceDeps {
  pool: Pool;
  store: SeatStore;
  cache: LicenseCache;
  tokens: TokenIssuer;
  journal: BatchWriter<JournalEntry>;
  audit: BatchWriter<QueuedAudit>;
  issuer: string;
  observer?: LicensingObserver;
  /** How often licenses this process touched are swept for expired leases (Default: 5000 ms). */
  reapIntervalMs?: number;
}

export interface AcquireInput {
  license_key: string;
  fingerprint: string;
  metadata?: Record<string, string | number> | undefined;
}

const noObserver: LicensingObserver = { operation() {}, storeDuration() {}, expired() {}, seats() {} };

/**
 * Acquire, heartbeat, release and status: the machine-facing half of licensing. The hot paths read licenses
 * from the cache, change seats in the seat store, sign tokens in-process, and hand journal and audit rows to
 * batch writers (DESIGN.md §6).
 */
export class LeaseService {
  private readonly deps: LeaseServiceDeps;
  private readonly observer: LicensingObserver;
  /** Licenses this process has seen leases of: the reaper sweeps them, so expiries reach the journal. */
  private readonly touched = new Map<string, { tenantId: string; untilMs: number }>();
  private reaper: NodeJS.Timeout | null = null;

  constructor(deps: LeaseServiceDeps) {
    this.deps = deps;
    this.observer = deps.observer ?? noObserver;
  }

  startReaper() {
    this.reaper = setInterval(() => void this.reap(), this.deps.reapIntervalMs ?? 5000);
    this.reaper.unref();
  }

  stopReaper() {
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = null;
  }

  async acquire(caller: LicenseCaller, input: AcquireInput): Promise<{ status: 200 | 201; body: AcquireResponse }> {
    const license = await this.licenseForKey(caller, input.license_key);
    try {
      this.checkUsable(license);
      if (license.policy.mode === 'node_locked') await this.registerFingerprint(license, input.fingerprint);
    } catch (err) {
      if (err instanceof AtriumError) this.denied(caller, license, input.fingerprint, err.code);
      throw err;
    }
    const sessionId = newUuid();
    const outcome = await this.deps.store.acquire({
      tenantId: license.tenantId,
      licenseId: license.id,
      sessionId,
      fingerprint: input.fingerprint,
      metadata: input.metadata ?? {},
      maxSeats: license.maxSeats,
      lifetimeMs: license.lifetimeMs,
    });
    this.expired(license, outcome.expired);
    this.observer.seats(license.tenantId, license.id, outcome.used, license.maxSeats);
    if (outcome.kind === 'exhausted') {
      this.denied(caller, license, input.fingerprint, 'seats_exhausted');
      throw new AtriumError(
        'seats_exhausted',
        `all ${license.maxSeats} seats are in use; a seat frees itself when its holder releases it or stops heartbeating`,
      );
    }
    if (outcome.kind === 'acquired') this.journal(license, 'acquired', outcome.lease, outcome.lease.acquiredAtMs);
    this.observer.operation('acquire', outcome.kind);
    this.touch(license);
    const handle = toSessionHandle(outcome.lease.sessionId, license.id);
    const nowSeconds = Math.floor(Date.now() / 1000);
    const seats = { used: outcome.used, max: license.maxSeats };
    const token = this.deps.tokens.issue({
      iss: this.deps.issuer,
      sub: input.fingerprint,
      lic: toPublicId('license', license.id),
      sid: handle,
      fpr: input.fingerprint,
      seats,
      lease_exp: Math.floor(outcome.lease.expiresAtMs / 1000),
      iat: nowSeconds,
      exp: this.tokenExpiry(license, nowSeconds),
    });
    return {
      status: outcome.kind === 'acquired' ? 201 : 200,
      body: {
        token,
        session_id: handle,
        expires_at: new Date(outcome.lease.expiresAtMs).toISOString(),
        heartbeat_interval_seconds: license.policy.heartbeat_interval_seconds,
        seats,
      },
    };
  }

  async heartbeat(caller: LicenseCaller, session: { session_id?: string; token?: string }): Promise<HeartbeatResponse> {
    const { license, sessionId } = await this.resolveSession(caller, session);
    const expiresAtMs = await this.deps.store.heartbeat(license.ref, sessionId, license.lifetimeMs);
    if (expiresAtMs === null) {
      this.observer.operation('heartbeat', 'session_not_found');
      throw sessionNotFound();
    }
    this.observer.operation('heartbeat', 'ok');
    this.touch(license);
    return { expires_at: new Date(expiresAtMs).toISOString() };
  }

  async release(caller: LicenseCaller, session: { session_id?: string; token?: string }): Promise<void> {
    let resolved: { license: CachedLicense; sessionId: string };
    try {
      resolved = await this.resolveSession(caller, session, { allowSuspended: true });
    } catch (err) {
      // Releasing twice, or a session of a license that is gone, is not an error: release is idempotent.
      if (err instanceof AtriumError && err.code === 'session_not_found') return;
      throw err;
    }
    const { license, sessionId } = resolved;
    const lease = await this.deps.store.release(license.ref, sessionId);
    this.observer.operation('release', lease ? 'released' : 'absent');
    if (!lease) return;
    const now = Date.now();
    const ended = lease.expiresAtMs <= now;
    this.journal(license, ended ? 'expired' : 'released', lease, Math.min(now, lease.expiresAtMs));
    this.deps.audit.add(license.tenantId, {
      actor: caller.actor,
      requestId: caller.requestId,
      occurredAtMs: now,
      event: {
        action: 'license.released',
        resourceType: 'license',
        resourceId: toPublicId('license', license.id),
        data: { session_id: toSessionHandle(sessionId, license.id), fingerprint: lease.fingerprint },
      },
    });
  }

  async status(caller: LicenseCaller, key: string): Promise<LicenseStatus> {
    const license = await this.licenseForKey(caller, key);
    const { live, expired } = await this.deps.store.sweep(license.ref);
    this.expired(license, expired);
    this.observer.operation('status', 'ok');
    this.observer.seats(license.tenantId, license.id, live.length, license.maxSeats);
    let valid = true;
    try {
      this.checkUsable(license);
    } catch {
      valid = false;
    }
    return {
      valid,
      license_id: toPublicId('license', license.id),
      expires_at: license.expiresAtMs === null ? null : new Date(license.expiresAtMs).toISOString(),
      suspended: license.suspended,
      seats: { used: live.length, max: license.maxSeats },
      sessions: live.map((lease) => ({
        session_id: toSessionHandle(lease.sessionId, license.id),
        fingerprint: lease.fingerprint,
        acquired_at: new Date(lease.acquiredAtMs).toISOString(),
        expires_at: new Date(lease.expiresAtMs).toISOString(),
        metadata: lease.metadata,
      })),
    };
  }

  /** Sweeps licenses touched recently, so a crashed client's lease reaches the journal even if nobody acquires. */
  async reap(): Promise<void> {
    const now = Date.now();
    for (const [licenseId, entry] of this.touched) {
      if (entry.untilMs < now) this.touched.delete(licenseId);
      const license = await this.deps.cache.byId(entry.tenantId, licenseId).catch(() => null);
      if (!license) {
        this.touched.delete(licenseId);
        continue;
      }
      try {
        const { expired, used } = await this.deps.store.expire(license.ref);
        this.expired(license, expired);
        this.observer.seats(license.tenantId, license.id, used, license.maxSeats);
      } catch {
        // The next round retries; a store outage is visible in the request metrics.
      }
    }
  }

  /**
   * Sweeps every license of one organization: leases that expired with no call at all reach the journal (and
   * Redis drops them) even when no API process has seen the license since it started. Run per organization by
   * the `licensing.sweep` flow every minute.
   */
  async sweepTenant(tenantId: string): Promise<{ licenses: number; expired: number }> {
    const { rows } = await withTenant(this.deps.pool, tenantId, (tx) =>
      tx.query<{ id: string }>('select id from licenses where tenant_id = $1', [tenantId]),
    );
    let expiredCount = 0;
    for (const { id } of rows) {
      const license = await this.deps.cache.byId(tenantId, id);
      if (!license) continue;
      const { expired, used } = await this.deps.store.expire(license.ref);
      this.expired(license, expired);
      this.observer.seats(license.tenantId, license.id, used, license.maxSeats);
      expiredCount += expired.length;
    }
    return { licenses: rows.length, expired: expiredCount };
  }

  private tokenExpiry(license: CachedLicense, nowSeconds: number): number {
    const exp = nowSeconds + license.policy.token_ttl_seconds;
    return license.expiresAtMs === null ? exp : Math.min(exp, Math.floor(license.expiresAtMs / 1000));
  }

  private async licenseForKey(caller: LicenseCaller, key: string): Promise<CachedLicense> {
    const license = await this.deps.cache.byKey(key);
    // Another organization's key is answered exactly like an unknown one.
    if (!license || license.tenantId !== caller.tenantId || (caller.licenseId && caller.licenseId !== license.id)) {
      throw new AtriumError('not_found', 'no license has this key in your organization');
    }
    return license;
  }

  private checkUsable(license: CachedLicense) {
    if (license.suspended) throw new AtriumError('license_suspended', 'this license is suspended');
    if (license.expiresAtMs !== null && license.expiresAtMs <= Date.now()) {
      throw new AtriumError(
        'license_expired',
        `this license expired at ${new Date(license.expiresAtMs).toISOString()}`,
      );
    }
  }

  private async resolveSession(
    caller: LicenseCaller,
    session: { session_id?: string; token?: string },
    options: { allowSuspended?: boolean } = {},
  ): Promise<{ license: CachedLicense; sessionId: string }> {
    let handle = session.session_id;
    if (session.token !== undefined) {
      const claims = this.deps.tokens.verify(session.token);
      if (!claims) throw new AtriumError('unauthenticated', 'the token is not one this server issued, or it expired');
      if (handle !== undefined && handle !== claims.sid) {
        throw new AtriumError('validation_failed', 'session_id and token name different sessions');
      }
      handle = claims.sid;
    }
    const parsed = handle ? fromSessionHandle(handle) : null;
    if (!parsed) throw new AtriumError('validation_failed', 'send session_id or token');
    const visible = caller.licenseId === null || caller.licenseId === parsed.licenseId;
    let license = visible ? this.deps.cache.peek(caller.tenantId, parsed.licenseId) : null;
    if (license === undefined) license = await this.deps.cache.byId(caller.tenantId, parsed.licenseId);
    if (!license) throw sessionNotFound();
    if (!options.allowSuspended) this.checkUsable(license);
    return { license, sessionId: parsed.sessionId };
  }

  /** Node-locked: the fingerprint must be registered, or there must be room to register it (row lock on the license). */
  private async registerFingerprint(license: CachedLicense, fingerprint: string) {
    if (this.deps.cache.knowsFingerprint(license.id, fingerprint)) return;
    await withTenant(this.deps.pool, license.tenantId, async (tx) => {
      if (await repository.touchFingerprint(tx, license.tenantId, license.id, fingerprint)) return;
      await repository.findLicense(tx, license.tenantId, license.id, { lock: true });
      const count = await repository.countFingerprints(tx, license.tenantId, license.id);
      const limit = license.policy.max_fingerprints ?? license.maxSeats;
      if (count >= limit) {
        throw new AtriumError(
          'fingerprint_limit_reached',
          `this license is locked to ${limit} machines; an administrator can deactivate one`,
        );
      }
      await repository.insertFingerprint(tx, license.tenantId, license.id, newUuid(), fingerprint);
    });
    this.deps.cache.rememberFingerprint(license.id, fingerprint);
  }

  private denied(caller: LicenseCaller, license: CachedLicense, fingerprint: string, code: string) {
    this.observer.operation('acquire', code);
    const now = Date.now();
    this.deps.journal.add(license.tenantId, {
      licenseId: license.id,
      sessionId: null,
      fingerprint,
      event: 'denied',
      occurredAtMs: now,
    });
    this.deps.audit.add(license.tenantId, {
      actor: caller.actor,
      requestId: caller.requestId,
      occurredAtMs: now,
      event: {
        action: 'license.acquire_denied',
        resourceType: 'license',
        resourceId: toPublicId('license', license.id),
        data: { code, fingerprint },
      },
    });
  }

  private expired(license: CachedLicense, leases: Lease[]) {
    if (leases.length === 0) return;
    this.observer.expired(this.deps.store.name, leases.length);
    for (const lease of leases) this.journal(license, 'expired', lease, lease.expiresAtMs);
  }

  /** Stores that journal in their own transaction (PostgreSQL) have done it already. */
  private journal(license: CachedLicense, event: JournalEntry['event'], lease: Lease, atMs: number) {
    if (this.deps.store.journalsItself) return;
    this.deps.journal.add(license.tenantId, {
      licenseId: license.id,
      sessionId: lease.sessionId,
      fingerprint: lease.fingerprint,
      event,
      occurredAtMs: atMs,
      metadata: event === 'acquired' ? lease.metadata : null,
    });
  }

  private touch(license: CachedLicense) {
    const untilMs = Date.now() + license.lifetimeMs * 2 + 60_000;
    const entry = this.touched.get(license.id);
    if (entry && entry.untilMs - untilMs > -1000) return;
    this.touched.set(license.id, { tenantId: license.tenantId, untilMs });
  }
}

function sessionNotFound() {
  return new AtriumError('session_not_found', 'this session expired or was released; acquire again');
}
