import type { Pool } from '@atrium/db';
import { withTenant } from '@atrium/db';
import type { Tracer } from '@opentelemetry/api';
import { insertAuditEvents, type QueuedAudit } from '../shared/audit.ts';
import { BatchWriter } from '../shared/batch-writer.ts';
import type { RedisClient } from '../shared/redis.ts';
import { findOpenSessions, insertJournalEntries, type JournalEntry } from './journal.repository.ts';
import { LeaseService, type LicensingObserver } from './leases.service.ts';
import { LicenseCache } from './license-cache.ts';
import { LicenseAdmin } from './licenses.service.ts';
import type { RootSigner } from './root-signer.ts';
import { SeatReconciler } from './seat-reconcile.service.ts';
import { PostgresSeatStore } from './seat-store.postgres.ts';
import { type OpenLeases, RedisSeatStore } from './seat-store.redis.ts';
import { tracedSeatStore } from './seat-store.traced.ts';
import type { LicenseRef, SeatStore, StoreTiming } from './seat-store.ts';
import { type SigningAlgorithm, SigningKeyRing } from './signing-keys.ts';
import { TokenIssuer } from './tokens.ts';

export interface LicensingOptions {
  pool: Pool;
  /** Scaled mode: seats in Redis. Without it seats live in PostgreSQL. */
  redis?: RedisClient | null;
  redisKeyPrefix?: string;
  root: RootSigner;
  signingAlgorithm?: SigningAlgorithm;
  rotationSeconds?: number;
  maxTokenTtlSeconds: number;
  /** `iss` of tokens and certificates: the server's public URL. */
  issuer: string;
  cacheTtlMs?: number;
  journalFlushIntervalMs?: number;
  reapIntervalMs?: number;
  observer?: LicensingObserver;
  /** Makes spans of the seat store's calls within sampled requests (ADR 0009); absent: no tracing. */
  tracer?: Tracer | null;
  onBackgroundError?(err: unknown, what: string): void;
}

export interface Licensing {
  admin: LicenseAdmin;
  leases: LeaseService;
  ring: SigningKeyRing;
  store: SeatStore;
  cache: LicenseCache;
  journal: BatchWriter<JournalEntry>;
  audit: BatchWriter<QueuedAudit>;
  /** Stops timers and writes what the batch writers still hold. Does not close the pool or Redis. */
  close(): Promise<void>;
}

/**
 * The journal's open leases of a license, each with the license's lifetime: what the Redis seat store rebuilds
 * a lost lease set from. `journal`, when given, is flushed first: what it still holds belongs in the journal
 * before the journal is read back.
 */
export function openLeasesFromJournal(
  pool: Pool,
  cache: LicenseCache,
  journal?: BatchWriter<JournalEntry>,
): (license: LicenseRef) => Promise<OpenLeases> {
  return async (license) => {
    await journal?.flush();
    const cached = await cache.byId(license.tenantId, license.licenseId);
    const rows = await withTenant(pool, license.tenantId, (tx) =>
      findOpenSessions(tx, license.tenantId, license.licenseId),
    );
    return {
      lifetimeMs: cached?.lifetimeMs ?? 360_000,
      leases: rows.map((row) => ({
        sessionId: row.session_id,
        fingerprint: row.fingerprint,
        acquiredAtMs: row.acquired_at.getTime(),
        metadata: row.metadata ?? {},
      })),
    };
  };
}

export interface RedisSeatStoreParts {
  redis: RedisClient;
  keyPrefix: string;
  pool: Pool;
  cache: LicenseCache;
  /** This process's journal writer, flushed before the journal is read (Default: none, e.g. a CLI command). */
  journal?: BatchWriter<JournalEntry>;
  /** Told how long each script call took (Default: nobody). */
  timing?: StoreTiming;
}

/** The Redis seat store, rebuilding a lost lease set from the journal: the API and `licenses reconcile` share it. */
export function createRedisSeatStore(parts: RedisSeatStoreParts): RedisSeatStore {
  return new RedisSeatStore(parts.redis, {
    keyPrefix: parts.keyPrefix,
    loadOpenLeases: openLeasesFromJournal(parts.pool, parts.cache, parts.journal),
    timing: parts.timing,
  });
}

/** What `atrium licenses reconcile` runs on: the Redis seat store and the journal, nothing else of licensing. */
export function createSeatReconciler(parts: Omit<RedisSeatStoreParts, 'cache' | 'journal'>): SeatReconciler {
  // Short-lived: each license is read once, for its lease lifetime.
  const cache = new LicenseCache(parts.pool, { ttlMs: 0 });
  const loadOpenLeases = openLeasesFromJournal(parts.pool, cache);
  const store = new RedisSeatStore(parts.redis, { keyPrefix: parts.keyPrefix, loadOpenLeases });
  return new SeatReconciler({ pool: parts.pool, store, loadOpenLeases });
}

/** Builds the licensing domain from its parts: the composition root calls this once per process. */
export async function createLicensing(options: LicensingOptions): Promise<Licensing> {
  const { pool } = options;
  const cache = new LicenseCache(pool, { ttlMs: options.cacheTtlMs ?? 5000 });
  const onError = options.onBackgroundError ?? (() => {});
  const journal = new BatchWriter<JournalEntry>({
    pool,
    write: insertJournalEntries,
    flushIntervalMs: options.journalFlushIntervalMs ?? 200,
    onError: (err) => onError(err, 'lease journal write'),
  });
  const audit = new BatchWriter<QueuedAudit>({
    pool,
    write: insertAuditEvents,
    flushIntervalMs: options.journalFlushIntervalMs ?? 200,
    onError: (err) => onError(err, 'audit write'),
  });
  const timing = options.observer?.storeDuration.bind(options.observer);
  const untraced: SeatStore = options.redis
    ? createRedisSeatStore({
        redis: options.redis,
        keyPrefix: options.redisKeyPrefix ?? '',
        pool,
        cache,
        journal,
        timing,
      })
    : new PostgresSeatStore(pool, { timing });
  const store = options.tracer ? tracedSeatStore(untraced, options.tracer) : untraced;
  const ring = new SigningKeyRing({
    pool,
    root: options.root,
    algorithm: options.signingAlgorithm ?? 'EdDSA',
    rotationSeconds: options.rotationSeconds ?? 86_400,
    maxTokenTtlSeconds: options.maxTokenTtlSeconds,
    issuer: options.issuer,
    onError: (err) => onError(err, 'signing key refresh'),
  });
  await ring.start();
  const leases = new LeaseService({
    pool,
    store,
    cache,
    tokens: new TokenIssuer(ring),
    journal,
    audit,
    issuer: options.issuer,
    reapIntervalMs: options.reapIntervalMs ?? 5000,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  leases.startReaper();
  return {
    admin: new LicenseAdmin({ cache, store }),
    leases,
    ring,
    store,
    cache,
    journal,
    audit,
    async close() {
      leases.stopReaper();
      ring.stop();
      await journal.flush();
      await audit.flush();
    },
  };
}
